using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using static TorchSharp.torch;

namespace HmmRnn.Host.Training;

/// <summary>
/// Lets the MKL inside libtorch run its AVX-512 kernels on AMD processors that have AVX-512 (Zen 4, Zen 5).
/// <para>
/// libtorch's CPU build links Intel's oneMKL statically and multiplies float32 matrices with it. MKL picks its kernels
/// by vendor before it looks at the CPU's features: on an AMD processor it never takes its AVX-512 branch, whatever the
/// processor supports. The vendor test is two small functions, <c>mkl_serv_intel_cpu_true</c> and <c>mkl_serv_intel_cpu</c>,
/// each of which caches its answer in a static int that starts at −1 ("not yet asked"). Before MKL first asks, we write 1
/// ("Intel") into both caches; from then on MKL chooses by the processor's features as it does on Intel's. Nothing else is
/// changed: no code is rewritten, and the kernels are MKL's own, run on instructions the processor has.
/// </para>
/// <para>
/// On the 2-core AMD EPYC (Zen 5) we develop on, MKL's matrix products ran 1.4–2.3× faster, a paper-preset training step
/// (batch 4096, T 30) 1.5× (docs/benchmarks.md, "MKL's AVX-512 kernels on AMD"). Float32 results differ from the AVX2
/// kernels' in the last bits (another summation order), so a run is reproduced bit for bit only with the same choice:
/// <see cref="Variable"/> = 0 keeps MKL's own choice.
/// </para>
/// The caches are found through each function's first instruction, <c>mov eax, [rip + disp32]</c> (bytes <c>8B 05</c>):
/// anything else — another MKL build, a libtorch without MKL, a cache already decided — leaves MKL alone and says why.
/// </summary>
public static class MklVendorCheck
{
    /// <summary>The environment variable that turns it off: <c>0</c>.</summary>
    public const string Variable = "HMMRNN_MKL_AVX512";

    /// <summary>The two exported MKL service functions whose cached answers are set.</summary>
    public static IReadOnlyList<string> Functions { get; } = ["mkl_serv_intel_cpu_true", "mkl_serv_intel_cpu"];

    /// <summary>What <see cref="Apply"/> did, and why, in words a user can act on.</summary>
    public sealed record Outcome(bool Applied, string Reason);

    private static Outcome? applied;

    /// <summary>The outcome of the process's <see cref="Apply"/>, or null if it was not called.</summary>
    public static Outcome? Current => applied;

    /// <summary>One phrase for benchmark headers and <c>doctor</c>: which kernels MKL was left to choose, and why.</summary>
    public static string Summary()
    {
        if (Current is not { } outcome) return "MKL's own kernels (this process did not ask for AVX-512)";
        return outcome.Applied
            ? $"MKL on AVX-512 (vendor test set; {Variable}=0 turns it off)"
            : $"MKL's own kernels ({outcome.Reason})";
    }

    /// <summary>
    /// The matrix kernels a run on <paramref name="device"/> uses, as checkpoints record them: "cuda", "mkl-avx512" where
    /// <see cref="Apply"/> set MKL's vendor test in this process, else "default" (libtorch's own choice).
    /// </summary>
    public static string Kernels(TorchSharp.DeviceType device) =>
        device == TorchSharp.DeviceType.CUDA ? "cuda" : Current is { Applied: true } ? "mkl-avx512" : "default";

    /// <summary>
    /// Why this machine and setting need nothing done, or null: an AMD x64 processor with AVX-512 under Linux, and
    /// <see cref="Variable"/> not 0. Pure: the facts are arguments.
    /// </summary>
    public static string? NotWanted(bool linuxX64, string vendor, bool avx512, string? variable) =>
        !linuxX64 ? "not Linux x64"
        : variable == "0" ? $"{Variable}=0: MKL's own choice kept"
        : vendor != "AuthenticAMD" ? $"{vendor} processor: MKL chooses by its features already"
        : !avx512 ? "this AMD processor has no AVX-512: MKL's AVX2 kernels are its best"
        : null;

    /// <summary>
    /// The address of the static int a function's first instruction <c>mov eax, [rip + disp32]</c> (<c>8B 05</c> d32)
    /// reads, given the function's address and its first six bytes; null for any other instruction.
    /// </summary>
    public static long? CacheAddress(long function, ReadOnlySpan<byte> code) =>
        code.Length >= 6 && code[0] == 0x8B && code[1] == 0x05
            ? function + 6 + BinaryPrimitives.ReadInt32LittleEndian(code[2..6])
            : null;

    /// <summary>
    /// Sets MKL's vendor caches to "Intel" where that is wanted and still possible (see the type). Loads libtorch (TorchSharp's
    /// CPU backend) first; call before the first matrix product. Idempotent; never throws: a failure is an outcome.
    /// </summary>
    public static Outcome Apply()
    {
        if (applied is not null) return applied;
        return applied = Try();
    }

    private static Outcome Try()
    {
        var linuxX64 = OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;
        var vendor = linuxX64 ? Vendor() : "";
        if (NotWanted(linuxX64, vendor, Avx512F.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported && Avx512F.VL.IsSupported,
                GetEnv(Variable)) is { } reason)
            return new(false, reason);
        try
        {
            if (!TryInitializeDeviceType(TorchSharp.DeviceType.CPU)) return new(false, "TorchSharp's CPU backend did not load");
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or NotSupportedException)
        {
            return new(false, "TorchSharp did not load: " + e.GetBaseException().Message);
        }
        var library = DlOpen("libtorch_cpu.so", RtldLazy | RtldNoLoad);
        if (library == 0) return new(false, "libtorch_cpu.so is not loaded");
        var caches = new List<nint>();
        foreach (var name in Functions)
        {
            if (!NativeLibrary.TryGetExport(library, name, out var function)) return new(false, $"this libtorch has no {name} (no MKL)");
            var code = new byte[6];
            Marshal.Copy(function, code, 0, code.Length);
            if (CacheAddress(function, code) is not { } cache)
                return new(false, $"{name} does not begin as expected (another MKL build): left alone");
            caches.Add((nint)cache);
        }
        var values = caches.Select(c => Marshal.ReadInt32(c)).ToArray();
        if (values.All(v => v == 1)) return new(true, "already set");
        if (values.Any(v => v >= 0)) return new(false, "MKL had already decided (a matrix product ran before): left alone");
        foreach (var cache in caches) Marshal.WriteInt32(cache, 1);
        return new(true, "MKL's vendor test answered \"Intel\": it chooses its kernels by this AMD processor's AVX-512");
    }

    /// <summary>
    /// MKL's code for the kernel family it dispatches to (<c>mkl_serv_cpu_detect</c>): 0 its generic branch, larger
    /// numbers wider vector units; null without MKL. Asking decides MKL's choice for the process: call after <see cref="Apply"/>.
    /// </summary>
    public static int? KernelFamily()
    {
        if (!OperatingSystem.IsLinux()) return null;
        var library = DlOpen("libtorch_cpu.so", RtldLazy | RtldNoLoad);
        if (library == 0 || !NativeLibrary.TryGetExport(library, "mkl_serv_cpu_detect", out var detect)) return null;
        return Marshal.GetDelegateForFunctionPointer<IntFunction>(detect)();
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int IntFunction();

    private static string Vendor()
    {
        var (_, ebx, ecx, edx) = X86Base.CpuId(0, 0);
        Span<byte> name = stackalloc byte[12];
        BinaryPrimitives.WriteInt32LittleEndian(name, ebx);
        BinaryPrimitives.WriteInt32LittleEndian(name[4..], edx);
        BinaryPrimitives.WriteInt32LittleEndian(name[8..], ecx);
        return System.Text.Encoding.ASCII.GetString(name);
    }

    // The native environment (the one libtorch and MKL read), as HugePages sets it.
    private static string? GetEnv(string name) => Marshal.PtrToStringUTF8(GetEnvNative(name));

    private const int RtldLazy = 0x1, RtldNoLoad = 0x4;

    [DllImport("libc", EntryPoint = "dlopen")]
    private static extern nint DlOpen([MarshalAs(UnmanagedType.LPUTF8Str)] string file, int mode);

    [DllImport("libc", EntryPoint = "getenv")]
    private static extern nint GetEnvNative([MarshalAs(UnmanagedType.LPUTF8Str)] string name);
}
