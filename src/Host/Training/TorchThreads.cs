using TorchSharp;
using static TorchSharp.torch;

namespace HmmRnn.Host.Training;

/// <summary>
/// Holds torch's CPU intra-op threads at one while a task lives, restoring the previous count on dispose.
/// For networks of tens of units stepped one time step at a time the products are too small to share:
/// the IBL quick preset took 21 ms a step on one thread against 36 ms on two (docs/benchmarks.md).
/// </summary>
public sealed class TorchThreads : IDisposable
{
    private readonly int previous;

    private TorchThreads(Device device)
    {
        previous = get_num_threads();
        if (device.type == DeviceType.CPU) set_num_threads(1);
    }

    /// <summary>One thread on the CPU (nothing changes on a GPU) until disposed.</summary>
    public static TorchThreads One(Device device) => new(device);

    /// <inheritdoc />
    public void Dispose() => set_num_threads(previous);
}
