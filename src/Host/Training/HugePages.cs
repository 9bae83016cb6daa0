using System.Runtime.InteropServices;

namespace HmmRnn.Host.Training;

/// <summary>
/// Asks libtorch's CPU allocator to back its large tensors with transparent huge pages: the environment variable
/// <c>THP_MEM_ALLOC_ENABLE=1</c>, which libtorch reads at its first allocation. On our 2-core VM a fresh 64 MB tensor
/// costs ≈ 0.13 s in 4 KB page faults; with huge pages a paper-preset step (batch 4096) went from 2.97 s to 1.82 s
/// (docs/benchmarks.md). Linux only; a value already in the environment (e.g. 0, to turn it off) is kept.
/// </summary>
public static class HugePages
{
    /// <summary>The variable libtorch reads.</summary>
    public const string Variable = "THP_MEM_ALLOC_ENABLE";

    /// <summary>
    /// Sets <see cref="Variable"/> in the process's native environment unless it is set (<see cref="Environment.SetEnvironmentVariable(string, string)"/>
    /// changes only .NET's copy on Linux, which libtorch never sees). Call before the first tensor.
    /// </summary>
    public static void Request()
    {
        if (OperatingSystem.IsLinux()) _ = SetEnv(Variable, "1", overwrite: 0);
    }

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int SetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);
}
