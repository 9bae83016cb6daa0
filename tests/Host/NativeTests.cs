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

    /// <summary>A task's parameters after creation and after one optimiser step, and that step's loss, on <paramref name="device"/>.</summary>
    private static (double[] Before, double Loss, double[] After) OneStep(Training.ITaskConfig config, Device device)
    {
        static double[] Flat(nn.Module m) => [.. m.parameters().SelectMany(p => p.detach().cpu().to(ScalarType.Float64).data<double>().ToArray())];
        using var task = config.Create(device);
        Assert.All(task.Model.parameters(), p => Assert.Equal(device.type, p.device_type)); // the work is on the device asked for
        var before = Flat(task.Model);
        double loss;
        using (var epoch = task.BeginEpoch(0)) loss = epoch.Step(0);
        return (before, loss, Flat(task.Model));
    }

    // Catches (issue 18: the old test multiplied two matrices and ran no project code): a task whose model, data or loss
    // stays on (or silently falls back to) the CPU, a step that differs between the devices (a tensor created on the wrong
    // device, a float32 cast on one side), and a device selection that refuses or ignores a GPU that is there.
    // IBL and flip-flop draw their data on the CPU (Core's Rng) and train in float64: one step agrees to 1e-8.
    // HMM emulation draws its noise with a torch Generator on the device (the CUDA stream differs from the CPU's), so its
    // initial weights must agree exactly and its loss only in size (the same Sinkhorn loss on other noise).
    [CudaFact]
    public void One_training_step_of_each_task_on_the_gpu_agrees_with_the_cpu()
    {
        Assert.Null(Training.Devices.Problem("cuda"));
        var ibl = Tasks.Ibl.IblTrainingConfig.Preset("quick") with
        {
            Hidden = 8, Sessions = 4, Truncation = 20, StepsPerEpoch = 1, Epochs = 1, ValidationSessions = 1, ValidationTrials = 20, Seed = 3,
        };
        var flipflop = Tasks.FlipFlop.FlipFlopConfig.Preset("quick") with { Hidden = 8, SequenceLength = 20, Batch = 8, StepsPerEpoch = 1, Epochs = 1, ValidationSequences = 8, Seed = 1 };
        foreach (var config in new Training.ITaskConfig[] { ibl, flipflop })
        {
            var cpu = OneStep(config, CPU);
            var gpu = OneStep(config, CUDA);
            Assert.Equal(cpu.Before, gpu.Before);
            Assert.True(Math.Abs(cpu.Loss - gpu.Loss) <= 1e-8 * Math.Max(1, Math.Abs(cpu.Loss)), $"{config.Task}: loss {cpu.Loss} on the CPU, {gpu.Loss} on the GPU");
            Assert.All(cpu.After.Zip(gpu.After), w => Assert.True(Math.Abs(w.First - w.Second) <= 1e-8, $"{config.Task}: weight {w.First} against {w.Second}"));
            Assert.NotEqual(cpu.Before, gpu.After); // the step moved the weights
        }
        var hmm = RunLockTests.Tiny(epochs: 1);
        var (hmmCpu, hmmGpu) = (OneStep(hmm, CPU), OneStep(hmm, CUDA));
        Assert.Equal(hmmCpu.Before, hmmGpu.Before);
        Assert.True(double.IsFinite(hmmGpu.Loss) && hmmGpu.Loss > 0, $"hmm: loss {hmmGpu.Loss} on the GPU");
        Assert.InRange(hmmGpu.Loss, 0.5 * hmmCpu.Loss, 2 * hmmCpu.Loss);
        Assert.NotEqual(hmmGpu.Before, hmmGpu.After);
    }
}
