using HmmRnn.Build;
using TorchSharp;
using static TorchSharp.torch;

namespace HmmRnn.Host.Tests;

[Collection("torch")]
public class NativeTests
{
    private static string BuiltGlue() =>
        Directory.EnumerateFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories).First();

    [Fact]
    public void TorchSharp_loads_and_takes_a_training_step_here()
    {
        var w = randn(4, 3, requires_grad: true);
        var loss = ones(2, 4).matmul(w).pow(2).sum();
        loss.backward();
        Assert.NotNull(w.grad);
        Assert.True(w.grad!.abs().sum().ToDouble() > 0);
    }

    [Fact]
    public void Built_glue_requires_no_GLIBCXX_newer_than_3_4_30()
    {
        if (!OperatingSystem.IsLinux()) return;
        var versions = ElfVersionPatch.RequiredVersions(File.ReadAllBytes(BuiltGlue()));
        Assert.Contains("GLIBCXX_3.4.30", versions);
        Assert.DoesNotContain("GLIBCXX_3.4.32", versions);
    }

    [Fact]
    public void Our_ELF_hash_equals_the_linker_s_for_every_requirement_of_the_shipped_library()
    {
        // The hashes in the unpatched library were written by the linker that built it: an
        // independent oracle for ElfVersionPatch.Hash.
        var original = Directory.EnumerateFiles(Path.Combine(Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"), "torchsharp"),
            "libLibTorchSharp.so", SearchOption.AllDirectories).FirstOrDefault(p => p.Contains("linux-x64"));
        if (original is null) return; // package cache elsewhere: nothing to compare
        var elf = File.ReadAllBytes(original);
        var names = ElfVersionPatch.RequiredVersions(elf);
        Assert.Contains("GLIBCXX_3.4.32", names);
        // Rewrite to the same name: rewrites only if the stored hash differs from ours.
        foreach (var name in names.Distinct())
        {
            var copy = (byte[])elf.Clone();
            ElfVersionPatch.Rewrite(copy, name, name);
            Assert.Equal(elf, copy);
        }
    }

    [Fact]
    public void Patching_is_idempotent_and_changes_only_the_named_requirement()
    {
        var elf = File.ReadAllBytes(BuiltGlue());
        var before = ElfVersionPatch.RequiredVersions(elf);
        Assert.Equal(0, ElfVersionPatch.Rewrite(elf, "GLIBCXX_3.4.32", "GLIBCXX_3.4.30"));
        Assert.Equal(before, ElfVersionPatch.RequiredVersions(elf));
        Assert.Throws<ArgumentException>(() => ElfVersionPatch.Rewrite(elf, "GLIBCXX_3.4.30", "GLIBCXX_3.4.9"));
    }

    [CudaFact]
    public void Cuda_training_step_runs_on_the_gpu()
    {
        var w = randn(4, 3, device: CUDA, requires_grad: true);
        ones(2, 4, device: CUDA).matmul(w).pow(2).sum().backward();
        Assert.Equal(DeviceType.CUDA, w.grad!.device_type);
    }
}
