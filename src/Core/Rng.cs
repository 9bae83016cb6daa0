using System.Runtime.CompilerServices;

namespace HmmRnn.Core;

/// <summary>
/// A seedable, splittable pseudo-random generator as an immutable value (SplitMix64,
/// Steele, Lea &amp; Flood 2014). Every draw returns the value and the next generator, so the
/// same seed gives the same numbers on every machine and no function hides a global state.
/// </summary>
/// <remarks>
/// For parallel work use <see cref="Substream"/>: stream <c>i</c> depends only on the parent
/// state and <c>i</c>, so results do not depend on how work is spread over threads.
/// </remarks>
/// <param name="State">The SplitMix64 state; use <see cref="FromSeed"/> to seed from an integer.</param>
public readonly record struct Rng(ulong State)
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;

    /// <summary>A generator seeded from an integer seed (negative seeds are fine).</summary>
    public static Rng FromSeed(long seed) => new(Mix64(unchecked((ulong)seed) ^ 0x6A09E667F3BCC909UL));

    /// <summary>The next 64 random bits and the generator that follows.</summary>
    public (ulong Value, Rng Next) NextUInt64()
    {
        var s = unchecked(State + Golden);
        return (Mix64(s), new Rng(s));
    }

    /// <summary>A uniform draw in [0, 1) with 53 random bits.</summary>
    public (double Value, Rng Next) NextDouble()
    {
        var (bits, next) = NextUInt64();
        return (ToUnit(bits), next);
    }

    /// <summary>A uniform integer in [0, <paramref name="exclusiveMax"/>).</summary>
    public (int Value, Rng Next) NextInt(int exclusiveMax)
    {
        if (exclusiveMax <= 0) throw new ArgumentOutOfRangeException(nameof(exclusiveMax), exclusiveMax, "must be positive");
        var (bits, next) = NextUInt64();
        // Lemire's multiply-shift: unbiased enough for exclusiveMax << 2^64 (bias < 2^-32).
        return ((int)(((UInt128)bits * (ulong)exclusiveMax) >> 64), next);
    }

    /// <summary>A standard normal draw (Box–Muller on two uniforms).</summary>
    public (double Value, Rng Next) NextNormal()
    {
        var g = new Generator(this);
        var z = g.Normal();
        return (z, g.Current);
    }

    /// <summary>A standard Gumbel draw, −log(−log U).</summary>
    public (double Value, Rng Next) NextGumbel()
    {
        var g = new Generator(this);
        var z = g.Gumbel();
        return (z, g.Current);
    }

    /// <summary>An index drawn with the given probabilities.</summary>
    public (int Value, Rng Next) NextCategorical(ProbabilityVector probabilities)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        var g = new Generator(this);
        var k = g.Categorical(probabilities.AsSpan());
        return (k, g.Current);
    }

    /// <summary>Two independent generators; this one should not be used afterwards.</summary>
    public (Rng Left, Rng Right) Split()
    {
        var (a, n1) = NextUInt64();
        var (b, _) = n1.NextUInt64();
        return (new Rng(a), new Rng(Mix64(b ^ 0xBF58476D1CE4E5B9UL)));
    }

    /// <summary>The generator of the <paramref name="index"/>-th independent sub-stream.</summary>
    public Rng Substream(long index) =>
        new(Mix64(State ^ Mix64(unchecked((ulong)index * Golden + 0xD1B54A32D192ED03UL))));

    /// <summary>
    /// Shuffles <paramref name="items"/> in place (Fisher–Yates from the last position down, each swap partner drawn with
    /// <see cref="NextInt"/>); returns the next generator.
    /// </summary>
    public Rng Shuffle<T>(Span<T> items)
    {
        var rng = this;
        for (int i = items.Length - 1; i > 0; i--)
        {
            (var j, rng) = rng.NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
        return rng;
    }

    /// <summary>Fills <paramref name="destination"/> with standard normal draws; returns the next generator.</summary>
    public Rng FillNormal(Span<double> destination)
    {
        var g = new Generator(this);
        g.FillNormal(destination);
        return g.Current;
    }

    /// <summary>Fills <paramref name="destination"/> with uniform draws in [0, 1); returns the next generator.</summary>
    public Rng FillUniform(Span<double> destination)
    {
        var g = new Generator(this);
        for (int i = 0; i < destination.Length; i++) destination[i] = g.Uniform();
        return g.Current;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Mix64(ulong z)
    {
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double ToUnit(ulong bits) => (bits >> 11) * (1.0 / (1UL << 53));
}

/// <summary>
/// The same SplitMix64 stream as <see cref="Rng"/>, advanced in place for hot loops inside
/// Core. It never escapes a function: callers pass an <see cref="Rng"/> and get one back.
/// </summary>
internal struct Generator(Rng start)
{
    private ulong _state = start.State;

    public readonly Rng Current => new(_state);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Bits()
    {
        _state = unchecked(_state + 0x9E3779B97F4A7C15UL);
        return Rng.Mix64(_state);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double Uniform() => Rng.ToUnit(Bits());

    /// <summary>Uniform in the open interval (0, 1): safe under a logarithm, twice.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double UniformOpen() => ((Bits() >> 11) + 0.5) * (1.0 / (1UL << 53));

    public double Normal()
    {
        var r = Math.Sqrt(-2.0 * Math.Log(UniformOpen()));
        return r * Math.Cos(2.0 * Math.PI * Uniform());
    }

    public void FillNormal(Span<double> destination)
    {
        int i = 0;
        for (; i + 1 < destination.Length; i += 2)
        {
            var r = Math.Sqrt(-2.0 * Math.Log(UniformOpen()));
            var (s, c) = Math.SinCos(2.0 * Math.PI * Uniform());
            destination[i] = r * c;
            destination[i + 1] = r * s;
        }
        if (i < destination.Length) destination[i] = Normal();
    }

    public double Gumbel() => -Math.Log(-Math.Log(UniformOpen()));

    /// <summary>
    /// Inverse-CDF draw from probabilities summing to one. Rounding left over goes to the last
    /// index of positive probability, so an index of probability zero is never drawn.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Categorical(ReadOnlySpan<double> probabilities)
    {
        var u = Uniform();
        int lastPositive = 0;
        for (int k = 0; k < probabilities.Length; k++)
        {
            var p = probabilities[k];
            if (p <= 0) continue;
            lastPositive = k;
            u -= p;
            if (u < 0) return k;
        }
        return lastPositive;
    }
}
