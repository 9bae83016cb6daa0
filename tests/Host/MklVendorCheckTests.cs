using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using HmmRnn.Host.Training;
using static TorchSharp.torch;

namespace HmmRnn.Host.Tests;

/// <summary>
/// The test process sets MKL's vendor caches as the command line does (Program.cs), before any test's first matrix
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
        if (MklVendorCheck.NotWanted(OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64,
                Vendor(), Avx512F.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported && Avx512F.VL.IsSupported, null) is { } why)
            Skip = "MKL's vendor test is left alone here: " + why;
    }

    private static string Vendor()
    {
        if (!X86Base.IsSupported) return "not x86";
        var (_, b, c, d) = X86Base.CpuId(0, 0);
        return string.Concat(new[] { b, d, c }.Select(r => System.Text.Encoding.ASCII.GetString(BitConverter.GetBytes(r))));
    }
}

[Collection("torch")]
public class MklVendorCheckTests
{
    // Golden: objdump -d of libtorch 2.10.0's libtorch_cpu.so (TorchSharp-cpu 0.107's libtorch-cpu-linux-x64), whose
    // annotations give the targets: "bdc5670: 8b 05 1a 67 98 09  mov 0x998671a(%rip),%eax  # 1574bd90
    // <mkl_serv_intel_cpu_true.cached>" and "bdc56e0: 8b 05 ae 66 98 09  mov 0x99866ae(%rip),%eax  # 1574bd94
    // <mkl_serv_intel_cpu.cached>". Fails if the displacement is read big-endian, unsigned, or from the wrong end of the
    // instruction (RIP is the next instruction's address: + 6).
    [Theory]
    [InlineData(0xbdc5670L, new byte[] { 0x8b, 0x05, 0x1a, 0x67, 0x98, 0x09 }, 0x1574bd90L)]
    [InlineData(0xbdc56e0L, new byte[] { 0x8b, 0x05, 0xae, 0x66, 0x98, 0x09 }, 0x1574bd94L)]
    [InlineData(0x1000L, new byte[] { 0x8b, 0x05, 0xf0, 0xff, 0xff, 0xff }, 0xff6L)] // disp32 = −16: 0x1000 + 6 − 16
    public void The_cache_is_where_the_first_instruction_reads(long function, byte[] code, long expected) =>
        Assert.Equal(expected, MklVendorCheck.CacheAddress(function, code));

    [Theory]
    [InlineData(new byte[] { 0x8b, 0x0d, 0x1a, 0x67, 0x98, 0x09 })] // mov ecx, [rip + d]: another register
    [InlineData(new byte[] { 0x53, 0x8b, 0x05, 0x1a, 0x67, 0x98 })] // push rbx first: another build
    [InlineData(new byte[] { 0x8b, 0x05, 0x1a, 0x67 })]             // too short
    public void Any_other_beginning_is_left_alone(byte[] code) =>
        Assert.Null(MklVendorCheck.CacheAddress(0x1000, code));

    [Theory]
    [InlineData(true, "AuthenticAMD", true, null, null)]
    [InlineData(true, "AuthenticAMD", true, "1", null)]
    [InlineData(true, "AuthenticAMD", true, "0", "HMMRNN_MKL_AVX512=0")]
    [InlineData(true, "AuthenticAMD", false, null, "no AVX-512")]
    [InlineData(true, "GenuineIntel", true, null, "GenuineIntel")]
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

    // The command line sets it before its first product (Program.cs) and HMMRNN_MKL_AVX512=0 keeps MKL's choice: fails if
    // Program.cs no longer calls Apply, calls it after a product, or ignores the variable.
    [AmdAvx512Fact]
    public void The_command_line_sets_it_and_the_variable_turns_it_off()
    {
        Assert.Matches("kernel family [1-9]", Doctor(null));
        Assert.Matches("kernel family 0\\b", Doctor("0"));
    }

    private static string Doctor(string? variable)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "hmmrnn.dll"));
        info.ArgumentList.Add("doctor");
        if (variable is null) info.Environment.Remove(MklVendorCheck.Variable);
        else info.Environment[MklVendorCheck.Variable] = variable;
        using var p = Process.Start(info)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, output + p.StandardError.ReadToEnd());
        return output;
    }
}
