using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using System.Runtime.CompilerServices;
using HmmRnn.Host.Training;
using static TorchSharp.torch;

namespace HmmRnn.Host.Tests;

/// <summary>
/// The test process sets MKL's vendor caches as a device selection does (Devices.Select), before any test's first matrix
/// product: the tests then run the kernels users run.
/// </summary>
internal static class MklSetup
{
#pragma warning disable CA2255 // a test assembly's own start-up, not a library's
    [ModuleInitializer]
    internal static void Apply() => MklVendorCheck.Apply();
#pragma warning restore CA2255
}

/// <summary>A fact for an AMD processor with AVX-512 under Linux, where <see cref="MklVendorCheck"/> acts: skipped elsewhere.</summary>
public sealed class AmdAvx512FactAttribute : FactAttribute
{
    public AmdAvx512FactAttribute()
    {
        if (MklVendorCheck.NotWantedHere(Environment.GetEnvironmentVariable(MklVendorCheck.Variable)) is { } why)
            Skip = "MKL's vendor test is left alone here: " + why;
    }
}

[Collection("torch")]
public class MklVendorCheckTests
{
    private static readonly byte?[] True = MklVendorCheck.Prologues[0].Prologue, Cpu = MklVendorCheck.Prologues[1].Prologue;

    // Golden: objdump -d of libtorch 2.10.0's libtorch_cpu.so (TorchSharp-cpu 0.107's libtorch-cpu-linux-x64), whose
    // annotations give the targets: "bdc5670: 8b 05 1a 67 98 09  mov 0x998671a(%rip),%eax  # 1574bd90
    // <mkl_serv_intel_cpu_true.cached>", then "85 c0  test %eax,%eax", "78 01  js"; and "bdc56e0: 8b 05 ae 66 98 09
    // mov 0x99866ae(%rip),%eax  # 1574bd94 <mkl_serv_intel_cpu.cached>", then "83 f8 ff  cmp $0xffffffff,%eax",
    // "74 01  je". Fails if the displacement is read big-endian, unsigned, or from the wrong end of the instruction (RIP
    // is the next instruction's address: + 6), or if the prologues are not the build's.
    [Fact]
    public void The_caches_are_where_the_builds_first_instructions_read()
    {
        Assert.Equal(0x1574bd90L, MklVendorCheck.CacheAddress(0xbdc5670, [0x8b, 0x05, 0x1a, 0x67, 0x98, 0x09, 0x85, 0xc0, 0x78, 0x01], True));
        Assert.Equal(0x1574bd94L, MklVendorCheck.CacheAddress(0xbdc56e0, [0x8b, 0x05, 0xae, 0x66, 0x98, 0x09, 0x83, 0xf8, 0xff, 0x74, 0x01], Cpu));
        Assert.Equal(0xff6L, MklVendorCheck.CacheAddress(0x1000, [0x8b, 0x05, 0xf0, 0xff, 0xff, 0xff, 0x85, 0xc0, 0x78], True)); // disp32 = −16
    }

    [Theory]
    [InlineData(new byte[] { 0x8b, 0x0d, 0x1a, 0x67, 0x98, 0x09, 0x85, 0xc0, 0x78 })] // mov ecx, [rip + d]: another register
    [InlineData(new byte[] { 0x53, 0x8b, 0x05, 0x1a, 0x67, 0x98, 0x09, 0x85, 0xc0 })] // push rbx first: another build
    [InlineData(new byte[] { 0x8b, 0x05, 0x1a, 0x67, 0x98, 0x09, 0x85, 0xc0, 0x79 })] // jns: another meaning of the cache
    [InlineData(new byte[] { 0x8b, 0x05, 0x1a, 0x67, 0x98, 0x09, 0x83, 0xf8, 0xff })] // the other function's test
    [InlineData(new byte[] { 0x8b, 0x05, 0x1a, 0x67 })]                               // too short
    public void Any_other_beginning_is_left_alone(byte[] code) =>
        Assert.Null(MklVendorCheck.CacheAddress(0x1000, code, True));

    [Theory]
    [InlineData(true, "AuthenticAMD", true, null, null)]
    [InlineData(true, "AuthenticAMD", true, "1", null)]
    [InlineData(true, "AuthenticAMD", true, "0", "HMMRNN_MKL_AVX512=0")]
    [InlineData(true, "AuthenticAMD", false, null, "no AVX-512")]
    [InlineData(true, "GenuineIntel", true, null, "Intel processor")]
    [InlineData(true, "HygonGenuine", true, null, "not tried")]
    [InlineData(false, "AuthenticAMD", true, null, "not Linux x64")]
    public void Only_AMD_with_AVX512_under_Linux_is_changed_and_0_turns_it_off(bool linuxX64, string vendor, bool avx512, string? variable, string? reason)
    {
        var why = MklVendorCheck.NotWanted(linuxX64, vendor, avx512, variable);
        if (reason is null) Assert.Null(why);
        else Assert.Contains(reason, why);
    }

    // Fails if the caches written are not the ones MKL reads (MKL then stays on its generic branch, family 0), or if the
    // test process's first product ran before the setting (Apply then reports it declined).
    [AmdAvx512Fact]
    public void Here_MKL_dispatches_past_its_generic_branch()
    {
        var outcome = MklVendorCheck.Apply();
        Assert.True(outcome.Applied, outcome.Reason);
        Assert.True(MklVendorCheck.KernelFamily() > 0, $"MKL's kernel family {MklVendorCheck.KernelFamily()}");
    }

    // The kernels MKL now runs on this processor compute what the float64 sums say, at the training step's shapes (the
    // recurrent product, and the thin output layer's two backward products). Fails on a kernel that misbehaves on
    // this processor (the reason for a vendor test, if there were one).
    [Theory]
    [InlineData(4096, 150, 150)]
    [InlineData(4096, 150, 3)]
    [InlineData(150, 4096, 3)]
    [InlineData(256, 4096, 90)] // the loss's gradient products, P·y and Q·x̄ (4096 × 4096 × 90 at the paper's batch)
    public void Products_agree_with_float64_sums(int m, int k, int n)
    {
        var random = new Random(m + 7 * k + 13 * n);
        var a = Enumerable.Range(0, m * k).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var b = Enumerable.Range(0, k * n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        using var product = tensor(a, [m, k]).matmul(tensor(b, [k, n]));
        var c = product.data<float>().ToArray();
        double worst = 0;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0, scale = 0;
                for (int l = 0; l < k; l++) { sum += (double)a[i * k + l] * b[l * n + j]; scale += Math.Abs((double)a[i * k + l] * b[l * n + j]); }
                worst = Math.Max(worst, Math.Abs(c[i * n + j] - sum) / scale);
            }
        Assert.True(worst < 1e-5, $"worst error {worst:E2} of the sum of magnitudes");
    }

    // The command line sets it before its first product (every device selection, and doctor) and HMMRNN_MKL_AVX512=0 keeps
    // MKL's choice: fails if Devices.Select or doctor no longer calls Apply, calls it after a product, or ignores the
    // variable; the family with it is larger than without (MKL's own choice here: its generic branch).
    [AmdAvx512Fact]
    public void The_command_line_sets_it_and_the_variable_turns_it_off()
    {
        static int Family(string output) => int.Parse(Regex.Match(output, "kernel family (\\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        int on = Family(Hmmrnn(null, "doctor")), off = Family(Hmmrnn("0", "doctor"));
        Assert.True(on > off, $"family {on} with the setting, {off} without");
        Assert.Contains("MKL on AVX-512", Hmmrnn(null, "bench", "train", "--batch", "8", "--T", "5", "--hidden", "4", "--input", "2", "--steps", "1", "--warmup", "0", "--kernel", "onehot"));
        Assert.Contains("MKL's own kernels", Hmmrnn("0", "bench", "train", "--batch", "8", "--T", "5", "--hidden", "4", "--input", "2", "--steps", "1", "--warmup", "0", "--kernel", "onehot"));
    }

    private static string Hmmrnn(string? variable, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "hmmrnn.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        if (variable is null) info.Environment.Remove(MklVendorCheck.Variable);
        else info.Environment[MklVendorCheck.Variable] = variable;
        using var p = Process.Start(info)!;
        var error = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, output + error.Result);
        return output;
    }
}
