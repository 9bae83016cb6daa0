using TorchSharp;
using static TorchSharp.torch;

namespace HmmRnn.Host.Training;

/// <summary>
/// Tensor–number operations that hold the number's native <see cref="Scalar"/> alive across the call. TorchSharp 0.107 turns
/// every number passed as a <see cref="Scalar"/> into a native object freed by the Scalar's finalizer, and the managed object
/// is unreachable once its handle has been read: a garbage collection during the native call can free it while libtorch
/// reads it. A quick-preset training of linear3 (seed 2) died that way in <c>clamp_min(1e-6)</c> ("Expected false to be
/// true" from <c>Scalar::toDouble</c>, issue 24's round of 2026-12-05). Each helper keeps its Scalar in a <c>using</c> block,
/// so the object stays reachable until the call returns and is freed at once, never by a finalizer. The training step's
/// number operations go through these.
/// </summary>
public static class HeldScalars
{
    /// <summary>max(t, min).</summary>
    public static Tensor ClampMin(this Tensor t, double min)
    {
        using var s = min.ToScalar();
        return t.clamp_min(s);
    }

    /// <summary>t clamped to [min, max] in place.</summary>
    public static Tensor Clamp_(this Tensor t, double min, double max)
    {
        using Scalar lo = min.ToScalar(), hi = max.ToScalar();
        return t.clamp_(lo, hi);
    }

    /// <summary>max(t, min) in place.</summary>
    public static Tensor ClampMin_(this Tensor t, double min)
    {
        using var s = min.ToScalar();
        return t.clamp_min_(s);
    }

    /// <summary>A tensor of <paramref name="count"/> entries all <paramref name="value"/>.</summary>
    public static Tensor Full(long count, double value, ScalarType dtype, Device device)
    {
        using var s = value.ToScalar();
        return full(count, s, dtype: dtype, device: device);
    }

    /// <summary>t · factor.</summary>
    public static Tensor Times(this Tensor t, double factor)
    {
        using var s = factor.ToScalar();
        return t.mul(s);
    }

    /// <summary>t · factor in place.</summary>
    public static Tensor Times_(this Tensor t, double factor)
    {
        using var s = factor.ToScalar();
        return t.mul_(s);
    }

    /// <summary>t / divisor.</summary>
    public static Tensor Over(this Tensor t, double divisor)
    {
        using var s = divisor.ToScalar();
        return t.div(s);
    }

    /// <summary>1 − t.</summary>
    public static Tensor OneMinus(this Tensor t)
    {
        using var one = 1.0.ToScalar();
        return t.neg().add_(one);
    }
}
