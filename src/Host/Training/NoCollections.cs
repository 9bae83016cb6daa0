using System.Runtime;

namespace HmmRnn.Host.Training;

/// <summary>
/// Runs a piece of training with the garbage collector held off (a no-GC region). TorchSharp 0.107 turns every number it passes
/// to libtorch into a native <c>Scalar</c> freed by the managed object's finalizer, and that object is unreachable once its
/// handle has been read: a collection during the native call (triggered by any thread's allocation) queues it, and the
/// finalizer thread frees it while libtorch still reads it ("Expected false to be true" from <c>Scalar::toDouble</c> /
/// <c>toFloat</c>; TorchSharp PRs 1434 and 1496, open). Our own number operations hold their Scalars (<see cref="HeldScalars"/>),
/// but every <c>a + b</c> passes an implicit α = 1 and Adam's step passes its β's the same way (a quick cyclic4 training died in
/// <c>add</c>, seed 11, 2026-12-05). With no collection while a step or a validation runs, nothing it allocates is finalized
/// before it ends; the collections happen between steps, when no native call is in flight. When the work allocates more than
/// the budget, the runtime collects and the region lapses (counted in <see cref="Lapsed"/>); the work goes on unprotected, as
/// before. One region at a time per process (the runtime's rule): a call made while another thread holds one runs
/// unprotected (counted in <see cref="Unavailable"/>); the trainer runs one training per process. <c>evaluate</c> and
/// <c>analyze</c> run outside any region.
/// </summary>
public static class NoCollections
{
    /// <summary>
    /// Managed bytes a step may allocate under the region: a quick-preset epoch allocates ≈ 40 MB over 20 steps and a validation,
    /// a paper-preset step ≈ 40 MB (the level table's match matrices). Measured on "dev-2c": no change in ms/step (cyclic4
    /// quick 62–67 ms with the regions, 62–64 without; linear3 paper 419–423 against 419–485 ms).
    /// </summary>
    public const long Budget = 64L << 20;

    private static long _lapsed, _unavailable;

    /// <summary>Regions that a collection ended early (the work allocated past <see cref="Budget"/>), since the process began.</summary>
    public static long Lapsed => Interlocked.Read(ref _lapsed);

    /// <summary>Calls for which no region could be started (one was already in force, or the runtime refused the budget).</summary>
    public static long Unavailable => Interlocked.Read(ref _unavailable);

    /// <summary>Runs <paramref name="work"/> in a no-GC region of <see cref="Budget"/> bytes where the runtime allows one.</summary>
    public static T Run<T>(Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        bool started;
        try { started = GCSettings.LatencyMode != GCLatencyMode.NoGCRegion && GC.TryStartNoGCRegion(Budget); }
        catch (InvalidOperationException) { started = false; }
        catch (ArgumentOutOfRangeException) { started = false; }
        if (!started) Interlocked.Increment(ref _unavailable);
        try { return work(); }
        finally
        {
            if (started)
            {
                if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
                    try { GC.EndNoGCRegion(); } catch (InvalidOperationException) { Interlocked.Increment(ref _lapsed); }
                else Interlocked.Increment(ref _lapsed);
            }
        }
    }
}
