using HmmRnn.Core;
using static TorchSharp.torch;

namespace HmmRnn.Host.Training;

/// <summary>
/// Device selection, in one place and with one behaviour for every task and every command (train, evaluate, analyse,
/// export): "cpu" or "cuda", and a run on "cuda" where CUDA is not available is refused in one line — never a silent fall
/// back to the CPU, and never by creating the CUDA device first (libtorch then prints its load trace).
/// </summary>
public static class Devices
{
    /// <summary>The device names a configuration may give.</summary>
    public static IReadOnlyList<string> Names { get; } = ["cpu", "cuda"];

    /// <summary>Whether <paramref name="device"/> is a device name at all (not whether this machine has it).</summary>
    public static bool IsKnown(string? device) => device is not null && Names.Contains(device);

    /// <summary>Why <paramref name="device"/> cannot be used on this machine (field "Device"), or null: it can.</summary>
    public static Violation? Problem(string? device) =>
        !IsKnown(device) ? Violation.Of("Device", device, "must be cpu or cuda")
        : device == "cuda" && !cuda.is_available() ? Violation.Of("Device", device, "CUDA is not available on this machine (run 'hmmrnn doctor')")
        : null;

    /// <summary>The torch device of <paramref name="device"/>.</summary>
    /// <exception cref="ValidationException">an unknown name, or CUDA where it is not available (<see cref="Problem"/>).</exception>
    /// <remarks>Before the device's first use, MKL is let run its AVX-512 kernels on AMD processors (<see cref="MklVendorCheck.Apply"/>).</remarks>
    public static Device Select(string device)
    {
        MklVendorCheck.Apply();
        return Problem(device) is { } problem ? throw new ValidationException(problem) : device == "cuda" ? CUDA : CPU;
    }
}
