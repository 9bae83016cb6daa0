using System.Collections.Immutable;
using HmmRnn.Analysis.Numerics;
using HmmRnn.Core;
using HmmRnn.Core.HiddenMarkov;

namespace HmmRnn.Analysis.HmmEmulation;

/// <summary>Where an emulating RNN's Sinkhorn training loss stands: the value a perfect emulator scores, and the i.i.d.-symbols plateau.</summary>
/// <param name="Sequences">Sequences a side (the training batch).</param>
/// <param name="HmmVsHmm">S_ε between two independent samples of the HMM: what a perfect emulator scores at this batch size.</param>
/// <param name="IidVsHmm">
/// S_ε between i.i.d. symbols with the HMM sample's frequencies (its symbols shuffled over all positions) and an HMM sample: the
/// plateau of a network that has the frequencies right and no temporal structure (SPEC A3).
/// </param>
public sealed record SinkhornBaseline(int Sequences, double HmmVsHmm, double IidVsHmm);

/// <summary>Reference values of the Sinkhorn divergence for an HMM at a batch size (Torre et al. 2025's loss; SPEC A3).</summary>
public static class SinkhornBaselines
{
    /// <summary>
    /// Three samples of <paramref name="sequences"/> sequences of length <paramref name="length"/> from independent streams of
    /// <paramref name="rng"/>: A and B give the HMM-vs-HMM value; A's symbols, shuffled over all positions, against B give the
    /// i.i.d. plateau.
    /// </summary>
    public static SinkhornBaseline Of(Hmm hmm, int length, int sequences, Rng rng, SinkhornOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(hmm);
        if (length < 1) throw new ArgumentOutOfRangeException(nameof(length), length, "must be ≥ 1");
        if (sequences < 2) throw new ArgumentOutOfRangeException(nameof(sequences), sequences, "must be ≥ 2");
        var (ra, rest) = rng.Split();
        var (rb, rs) = rest.Split();
        var a = HmmSampling.Sample(hmm, sequences, length, ra).Outputs;
        var b = HmmSampling.Sample(hmm, sequences, length, rb).Outputs;
        var symbols = a.SelectMany(s => s).ToArray();
        rs.Shuffle<int>(symbols);
        var iid = Enumerable.Range(0, sequences).Select(s => ImmutableArray.Create(symbols, s * length, length)).ToArray();
        int V = hmm.Symbols, D = length * V;
        var target = EmpiricalStatistics.OneHot(b, V);
        return new SinkhornBaseline(sequences,
            Sinkhorn.Compute(EmpiricalStatistics.OneHot(a, V), target, D, options).Divergence,
            Sinkhorn.Compute(EmpiricalStatistics.OneHot(iid, V), target, D, options).Divergence);
    }
}
