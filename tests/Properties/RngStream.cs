using HmmRnn.Core;

namespace HmmRnn.Properties;

/// <summary>A test-local cursor over an <see cref="Rng"/> value, for building random fixtures in loops.</summary>
internal sealed class RngStream(Rng rng)
{
    private Rng _rng = rng;

    public double Uniform() { (var v, _rng) = _rng.NextDouble(); return v; }

    public double Normal() { (var v, _rng) = _rng.NextNormal(); return v; }
}
