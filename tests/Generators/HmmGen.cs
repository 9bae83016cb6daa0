using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using HmmRnn.Core;
using HmmRnn.Core.HiddenMarkov;

namespace HmmRnn.Testing;

/// <summary>A small HMM together with a sequence it can emit (drawn from the model itself).</summary>
public sealed record HmmWithOutputs(Hmm Hmm, ImmutableArray<int> Outputs)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"K={Hmm.States} V={Hmm.Symbols}\nA={Hmm.Transition}\nB={Hmm.Emission}\npi={Hmm.Initial}\no=[{string.Join(",", Outputs)}]";
}

/// <summary>
/// FsCheck generators of valid values: probability vectors, stochastic matrices, HMMs and
/// sequences an HMM can emit. Compose them in your own properties.
/// </summary>
public static class HmmGen
{
    /// <summary>A probability in [0, 1] on a grid of 10⁻⁶.</summary>
    public static Gen<double> Unit { get; } = Gen.Choose(0, 1_000_000).Select(i => i / 1e6);

    /// <summary>A probability vector of <paramref name="count"/> entries; some entries are exactly zero when <paramref name="allowZeros"/>.</summary>
    public static Gen<ProbabilityVector> Probabilities(int count, bool allowZeros = false)
    {
        var weight = allowZeros
            ? Gen.Frequency((1, Gen.Constant(0)), (4, Gen.Choose(1, 1000)))
            : Gen.Choose(1, 1000);
        return weight.ArrayOf(count)
            .Where(w => w.Any(x => x > 0))
            .Select(w => ProbabilityVector.Normalize(w.Select(x => (double)x).ToArray()));
    }

    /// <summary>A row-stochastic matrix.</summary>
    public static Gen<StochasticMatrix> Stochastic(int rows, int columns, bool allowZeros = false) =>
        Probabilities(columns, allowZeros).ArrayOf(rows)
            .Select(r => StochasticMatrix.FromRows(r.Select(p => p.AsSpan().ToArray()).ToArray()));

    /// <summary>
    /// An HMM with 1..<paramref name="maxStates"/> states and 1..<paramref name="maxSymbols"/> symbols.
    /// Transitions are strictly positive (one closed class, a unique stationary law); emissions may have zeros.
    /// </summary>
    public static Gen<Hmm> Hmm(int maxStates = 3, int maxSymbols = 4) =>
        from k in Gen.Choose(1, maxStates)
        from v in Gen.Choose(1, maxSymbols)
        from pi in Probabilities(k, allowZeros: true)
        from a in Stochastic(k, k)
        from b in Stochastic(k, v, allowZeros: true)
        select new Hmm(pi, a, b);

    /// <summary>An HMM with a sequence of 1..<paramref name="maxLength"/> symbols drawn from it (so of positive probability).</summary>
    public static Gen<HmmWithOutputs> HmmWithOutputs(int maxStates = 3, int maxSymbols = 4, int maxLength = 6) =>
        from hmm in Hmm(maxStates, maxSymbols)
        from length in Gen.Choose(1, maxLength)
        from seed in Gen.Choose(int.MinValue, int.MaxValue)
        select new HmmWithOutputs(hmm, HmmSampling.Sample(hmm, 1, length, Rng.FromSeed(seed)).Outputs[0]);
}

/// <summary>Arbitraries for <c>[Property(Arbitrary = new[] { typeof(HmmArbitraries) })]</c>.</summary>
public static class HmmArbitraries
{
    /// <summary>Small HMMs (K ≤ 3, V ≤ 4).</summary>
    public static Arbitrary<Hmm> Hmm() => HmmGen.Hmm().ToArbitrary();

    /// <summary>Small HMMs with a short sequence (T ≤ 6) of positive probability.</summary>
    public static Arbitrary<HmmWithOutputs> HmmWithOutputs() => HmmGen.HmmWithOutputs().ToArbitrary();
}
