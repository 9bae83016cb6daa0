using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using static TorchSharp.torch;

namespace HmmRnn.Host.Training;

/// <summary>
/// Lets the MKL inside libtorch run its AVX-512 kernels on AMD processors that have AVX-512 (Zen 4, Zen 5).
/// <para>
/// libtorch's CPU build links Intel's oneMKL statically and multiplies float32 matrices with it. MKL asks for the
/// vendor before it looks at the CPU's features: on an AMD processor it stays on its generic branch whatever the
/// processor supports. The question is two small functions, <c>mkl_serv_intel_cpu_true</c> and <c>mkl_serv_intel_cpu</c>,
/// each of which caches its answer in a static int that starts at −1 ("not yet asked"). Before MKL first asks, we write 1
/// ("Intel") into both caches; from then on MKL chooses by the processor's features as it does on Intel's. No code is
/// rewritten, and the kernels are MKL's own, run on instructions the processor has (other Intel-only choices of MKL's
/// follow the same answer; tests/Host checks the products at the training step's shapes against float64 sums).
/// </para>
/// <para>
/// On the 2-core AMD EPYC (Zen 5) we develop on, MKL's products ran 1.4–2.4× faster, a paper-preset training step
/// (batch 4096, T 30) 1.44× (311 → 216 ms; docs/benchmarks.md, "MKL's AVX-512 kernels on AMD"). Float32 results differ
/// from the generic branch's in the last bits (another blocking and summation order), so a run is repeated bit for bit
/// only with the same choice: <see cref="Variable"/> = 0 keeps MKL's own.
/// </para>
/// The caches are found through each function's first instruction, <c>mov eax, [rip + disp32]</c>, and written only when
/// the function begins exactly as in the build this was written for (<see cref="Prologues"/>), both caches read −1 and
/// lie in a writable mapping; anything else — another MKL build, a libtorch without MKL, an answer already given —
/// leaves MKL alone and says why.
/// </summary>
public static class MklVendorCheck
{
    /// <summary>The environment variable that turns it off: <c>0</c>.</summary>
    public const string Variable = "HMMRNN_MKL_AVX512";

    /// <summary>
    /// The two exported MKL service functions whose cached answers are set, with the bytes each must begin with
    /// (null: the 32-bit displacement). From <c>objdump -d</c> of libtorch 2.10.0's libtorch_cpu.so (oneMKL 2024.2):
    /// <c>mov eax, [rip + d]; test eax, eax; js</c> and <c>mov eax, [rip + d]; cmp eax, −1; je</c>.
    /// </summary>
    public static IReadOnlyList<(string Name, byte?[] Prologue)> Prologues { get; } =
    [
        ("mkl_serv_intel_cpu_true", [0x8B, 0x05, null, null, null, null, 0x85, 0xC0, 0x78]),
        ("mkl_serv_intel_cpu", [0x8B, 0x05, null, null, null, null, 0x83, 0xF8, 0xFF, 0x74]),
    ];

    /// <summary>What <see cref="Apply"/> did, and why, in words a user can act on.</summary>
    public sealed record Outcome(bool Applied, string Reason);

    private static readonly Lock Gate = new();
    private static Outcome? applied;

    /// <summary>The outcome of the process's <see cref="Apply"/>, or null if it was not called.</summary>
    public static Outcome? Current { get { lock (Gate) return applied; } }

    /// <summary>One phrase for benchmark headers and <c>doctor</c>: whether MKL was let choose by the processor's features, and why.</summary>
    public static string Summary()
    {
        if (Current is not { } outcome) return "MKL's own kernels (this process did not ask for AVX-512)";
        return outcome.Applied
            ? $"MKL on AVX-512 (vendor test set; {Variable}=0 turns it off)"
            : $"MKL's own kernels ({outcome.Reason})";
    }

    /// <summary>
    /// The matrix kernels a run on <paramref name="device"/> uses, as checkpoints record them: "cuda"; on the CPU MKL's kernel
    /// family and the processor's vendor (e.g. "mkl-7-AuthenticAMD"; the family decides MKL's choice for the process, so
    /// call after <see cref="Apply"/>); "cpu" without MKL.
    /// </summary>
    public static string Kernels(TorchSharp.DeviceType device) =>
        device == TorchSharp.DeviceType.CUDA ? "cuda"
        : KernelFamily() is { } family ? $"mkl-{family.ToString(CultureInfo.InvariantCulture)}-{Vendor()}"
        : "cpu";

    /// <summary>
    /// Why nothing is to be done, or null: it is wanted on Linux x64 with an AMD processor that has AVX-512, unless
    /// <see cref="Variable"/> is 0. Pure: the facts are arguments.
    /// </summary>
    public static string? NotWanted(bool linuxX64, string vendor, bool avx512, string? variable) =>
        !linuxX64 ? "not Linux x64"
        : variable == "0" ? $"{Variable}=0: MKL's own choice kept"
        : vendor == "GenuineIntel" ? "an Intel processor: MKL chooses by its features already"
        : vendor != "AuthenticAMD" ? $"a {vendor} processor: not tried, left alone"
        : !avx512 ? "this AMD processor has no AVX-512: left alone"
        : null;

    /// <summary><see cref="NotWanted"/> for this process's machine, with <paramref name="variable"/> as <see cref="Variable"/>'s value.</summary>
    public static string? NotWantedHere(string? variable)
    {
        var linuxX64 = OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;
        return NotWanted(linuxX64, Vendor(), linuxX64 && HasAvx512(), variable);
    }

    /// <summary>
    /// The address of the static int a function reads with its first instruction, <c>mov eax, [rip + disp32]</c>, given the
    /// function's address and its first bytes, if they match <paramref name="prologue"/> (null bytes: the displacement);
    /// null for any other beginning.
    /// </summary>
    public static long? CacheAddress(long function, ReadOnlySpan<byte> code, IReadOnlyList<byte?> prologue)
    {
        ArgumentNullException.ThrowIfNull(prologue);
        if (code.Length < prologue.Count || prologue.Count < 6 || prologue[0] != 0x8B || prologue[1] != 0x05) return null;
        for (int i = 0; i < prologue.Count; i++)
            if (prologue[i] is byte b && code[i] != b) return null;
        return function + 6 + BinaryPrimitives.ReadInt32LittleEndian(code[2..6]);
    }

    /// <summary>
    /// Sets MKL's vendor caches to "Intel" where that is wanted and still possible (see the type). Loads TorchSharp's CPU
    /// backend first where it is wanted. Call before the first matrix product: <see cref="Devices.Select"/>, <c>doctor</c>
    /// and <c>bench sinkhorn</c> do. Once per process (later calls return the first outcome); thread-safe; a failure is
    /// an outcome, never an exception.
    /// </summary>
    public static Outcome Apply()
    {
        lock (Gate)
        {
            if (applied is not null) return applied;
            try { return applied = Try(); }
            catch (Exception e) { return applied = new(false, "left alone: " + e.GetBaseException().Message); }
        }
    }

    private static Outcome Try()
    {
        if (NotWantedHere(Environment.GetEnvironmentVariable(Variable)) is { } reason) return new(false, reason);
        if (!TryInitializeDeviceType(TorchSharp.DeviceType.CPU)) return new(false, "TorchSharp's CPU backend did not load");
        var library = TorchCpu();
        if (library == 0) return new(false, "libtorch_cpu.so is not loaded");
        var caches = new List<nint>();
        foreach (var (name, prologue) in Prologues)
        {
            if (!NativeLibrary.TryGetExport(library, name, out var function)) return new(false, $"this libtorch has no {name} (no MKL)");
            var code = new byte[prologue.Length];
            Marshal.Copy(function, code, 0, code.Length);
            if (CacheAddress(function, code, prologue) is not { } cache || !Writable(cache))
                return new(false, $"{name} does not begin as in the MKL this was written for: left alone");
            caches.Add((nint)cache);
        }
        var values = caches.Select(c => Marshal.ReadInt32(c)).ToArray();
        if (values.Any(v => v != -1)) return new(false, $"MKL had already answered ({string.Join(", ", values)}; a matrix product ran before): left alone");
        foreach (var cache in caches) Marshal.WriteInt32(cache, 1);
        return new(true, "MKL's vendor test answered \"Intel\": it chooses its kernels by this AMD processor's AVX-512");
    }

    /// <summary>
    /// MKL's code for the kernel family it dispatches to (<c>mkl_serv_cpu_detect</c>): 0 its generic branch, larger
    /// numbers wider vector units (7 with AVX-512 here); null without MKL. Asking decides MKL's choice for the process:
    /// call after <see cref="Apply"/>.
    /// </summary>
    public static int? KernelFamily()
    {
        var library = TorchCpu();
        if (library == 0 || !NativeLibrary.TryGetExport(library, "mkl_serv_cpu_detect", out var detect)) return null;
        return Marshal.GetDelegateForFunctionPointer<IntFunction>(detect)();
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int IntFunction();

    // libtorch_cpu.so as already loaded by TorchSharp (dlopen with RTLD_NOLOAD finds it by its soname, wherever it came
    // from, and never loads another copy); 0 where it is not loaded or this is not Linux. libdl.so.2 has dlopen on every
    // glibc (a forwarding stub from 2.34 on, where libc has it too).
    private static nint TorchCpu()
    {
        if (!OperatingSystem.IsLinux()) return 0;
        try { return DlOpen("libtorch_cpu.so", RtldLazy | RtldNoLoad); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return 0; }
    }

    // Whether the four bytes at address lie in a readable and writable mapping of this process (/proc/self/maps).
    private static bool Writable(long address)
    {
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            var fields = line.Split(' ', 3);
            if (fields.Length < 2 || fields[1].Length < 2) continue;
            var range = fields[0].Split('-');
            if (range.Length != 2) continue;
            long from = long.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            long to = long.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (address >= from && address + 4 <= to) return fields[1][0] == 'r' && fields[1][1] == 'w';
        }
        return false;
    }

    private static bool HasAvx512() =>
        Avx512F.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported && Avx512F.VL.IsSupported;

    /// <summary>The processor's vendor string (cpuid leaf 0), e.g. "AuthenticAMD"; "not x86" elsewhere.</summary>
    public static string Vendor()
    {
        if (!X86Base.IsSupported) return "not x86";
        var (_, ebx, ecx, edx) = X86Base.CpuId(0, 0);
        Span<byte> name = stackalloc byte[12];
        BinaryPrimitives.WriteInt32LittleEndian(name, ebx);
        BinaryPrimitives.WriteInt32LittleEndian(name[4..], edx);
        BinaryPrimitives.WriteInt32LittleEndian(name[8..], ecx);
        return System.Text.Encoding.ASCII.GetString(name);
    }

    private const int RtldLazy = 0x1, RtldNoLoad = 0x4;

    [DllImport("libdl.so.2", EntryPoint = "dlopen")]
    private static extern nint DlOpen([MarshalAs(UnmanagedType.LPUTF8Str)] string file, int mode);
}
