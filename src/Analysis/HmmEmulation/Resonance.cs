using System.Collections.Immutable;
using HmmRnn.Core;
using HmmRnn.Core.HiddenMarkov;
using HmmRnn.Core.Rnn;

namespace HmmRnn.Analysis.HmmEmulation;

/// <summary>How far an RNN's emissions at one input-noise scale σ are from its HMM's.</summary>
/// <param name="Sigma">The input noise's standard deviation (training used 1).</param>
/// <param name="Sequences">RNN sequences measured.</param>
/// <param name="TransitionError">Squared error of the output transition matrix against the exact one (the paper's metric).</param>
/// <param name="FrequencyError">Σ_v |f_RNN(v) − f_exact(v)|: the L1 distance of the output frequencies.</param>
/// <param name="DwellDistance">Mean over the common symbols (frequency ≥ 5%) of the total-variation distance between the RNN's and the HMM sample's dwell-time distributions; 1 where the RNN has no complete run of the symbol.</param>
public sealed record ResonancePoint(double Sigma, int Sequences, double TransitionError, double FrequencyError, double DwellDistance);

/// <summary>A sweep over σ and where each error is lowest.</summary>
/// <param name="Points">One per σ, ascending.</param>
/// <param name="TrainedSigma">The σ the network was trained with.</param>
/// <param name="BestForTransition">σ with the lowest transition error.</param>
/// <param name="BestForDwell">σ with the lowest dwell distance.</param>
public sealed record ResonanceCurve(ImmutableArray<ResonancePoint> Points, double TrainedSigma, double BestForTransition, double BestForDwell)
{
    /// <summary>The emission statistics are best at a σ above zero (by the transition error): the noise is needed, not a nuisance.</summary>
    public bool OptimumAboveZero => BestForTransition > 0;
}

/// <summary>
/// Stochastic resonance (beyond Torre et al. 2025, SPEC A5): sweep the scale of the input noise that drives
/// a trained network and measure its emissions against the HMM at each scale.
/// <para>
/// The network has no biases, so from h = 0 its states on noise σx are exactly σ times its states on x, and so are
/// its logits: the arg-max symbols are the same at every σ &gt; 0. σ acts only through the sampled readout, as the
/// inverse temperature of softmax(A h) (see <see cref="Emit"/>).
/// </para>
/// </summary>
public static class Resonance
{
    /// <summary>
    /// <paramref name="count"/> sequences of <paramref name="length"/> symbols emitted by <paramref name="weights"/> driven by
    /// noise x ~ N(0, σ² I), each from h = 0 (the runs <see cref="HmmNetworkAnalysis"/> uses, in episodes of
    /// <paramref name="length"/> steps). The symbol at each step is drawn from softmax(A h) by the Gumbel-max trick, as the
    /// training host's generator does (its hard Gumbel-softmax takes the arg-max of (A h + g) / τ, where the temperature τ
    /// cancels); with <paramref name="sample"/> false it is the arg-max of A h (the lowest index on ties).
    /// </summary>
    /// <param name="weights">The network.</param>
    /// <param name="count">Sequences.</param>
    /// <param name="length">Steps per sequence.</param>
    /// <param name="sigma">The noise's standard deviation σ ≥ 0.</param>
    /// <param name="rng">The noise (sub-stream 0) and the Gumbel draws (sub-stream 1).</param>
    /// <param name="sample">Sample the readout (true) or take its arg-max.</param>
    public static ImmutableArray<int>[] Emit(ReluRnnWeights weights, int count, int length, double sigma, Rng rng, bool sample = true)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "must be ≥ 1");
        if (length < 1) throw new ArgumentOutOfRangeException(nameof(length), length, "must be ≥ 1");
        if (!(sigma >= 0 && double.IsFinite(sigma))) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "must be finite and ≥ 0");
        var (_, logits, diverged) = HmmNetworkAnalysis.Simulate(weights, count * length, 0, length, sigma, rng.Substream(0));
        if (diverged >= 0) throw new ArgumentException($"the network's activity diverges (sequence {diverged / length}, step {diverged % length})", nameof(weights));
        int O = weights.Outputs;
        var gumbel = rng.Substream(1);
        var result = new ImmutableArray<int>[count];
        for (int n = 0; n < count; n++)
        {
            var symbols = new int[length];
            for (int t = 0; t < length; t++)
            {
                var y = logits.AsSpan((n * length + t) * O, O);
                int best = 0;
                double top = double.NegativeInfinity;
                for (int o = 0; o < O; o++)
                {
                    double score = y[o];
                    if (sample)
                    {
                        (var g, gumbel) = gumbel.NextGumbel();
                        score += g;
                    }
                    if (score > top) (top, best) = (score, o);
                }
                symbols[t] = best;
            }
            result[n] = ImmutableArray.Create(symbols);
        }
        return result;
    }

    /// <summary>
    /// <paramref name="points"/> evenly spaced scales from 0 to <paramref name="upTo"/> × <paramref name="trained"/> (issue 9: at
    /// least 13 points up to 3× the trained σ).
    /// </summary>
    public static ImmutableArray<double> Sigmas(double trained = 1, int points = 13, double upTo = 3)
    {
        if (!(trained > 0 && double.IsFinite(trained))) throw new ArgumentOutOfRangeException(nameof(trained), trained, "must be finite and > 0");
        if (points < 2) throw new ArgumentOutOfRangeException(nameof(points), points, "must be ≥ 2");
        if (!(upTo > 0 && double.IsFinite(upTo))) throw new ArgumentOutOfRangeException(nameof(upTo), upTo, "must be finite and > 0");
        return [.. Enumerable.Range(0, points).Select(i => upTo * trained * i / (points - 1))];
    }

    /// <summary>The errors of <paramref name="rnn"/> (generated at <paramref name="sigma"/>) against <paramref name="hmm"/>'s exact statistics and <paramref name="hmmSample"/>'s dwell times.</summary>
    public static ResonancePoint Measure(Hmm hmm, double sigma, IReadOnlyList<ImmutableArray<int>> rnn, IReadOnlyList<ImmutableArray<int>> hmmSample,
        EmulationGoals? goals = null)
    {
        ArgumentNullException.ThrowIfNull(hmm);
        ArgumentNullException.ThrowIfNull(rnn);
        ArgumentNullException.ThrowIfNull(hmmSample);
        if (!(sigma >= 0 && double.IsFinite(sigma))) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "must be finite and ≥ 0");
        goals ??= EmulationGoals.Default;
        int V = hmm.Symbols;
        var exact = HmmStatistics.Outputs(hmm);
        var stats = EmpiricalStatistics.Outputs(rnn, V);
        double frequency = 0;
        for (int v = 0; v < V; v++) frequency += Math.Abs(stats.Frequencies[v] - exact.Frequencies[v]);
        var rnnDwell = EmpiricalStatistics.DwellTimes(rnn, V, Emulation.MaxDwell);
        var hmmDwell = EmpiricalStatistics.DwellTimes(hmmSample, V, Emulation.MaxDwell);
        var common = Enumerable.Range(0, V).Where(v => exact.Frequencies[v] >= goals.CommonSymbol).ToArray();
        var dwell = common.Length == 0 ? double.NaN : common.Average(v => TotalVariation(rnnDwell[v], hmmDwell[v]));
        return new ResonancePoint(sigma, rnn.Count, EmpiricalStatistics.TransitionSquaredError(stats.Transition, exact.Transition), frequency, dwell);
    }

    /// <summary>The curve from its points (any order) and where each error is lowest (the smallest σ on a tie).</summary>
    public static ResonanceCurve Curve(IEnumerable<ResonancePoint> points, double trainedSigma)
    {
        ArgumentNullException.ThrowIfNull(points);
        var sorted = points.OrderBy(p => p.Sigma).ToImmutableArray();
        if (sorted.IsEmpty) throw new ArgumentException("needs at least one point", nameof(points));
        static double Best(ImmutableArray<ResonancePoint> p, Func<ResonancePoint, double> error) =>
            p.Where(x => double.IsFinite(error(x))).DefaultIfEmpty(p[0]).MinBy(error)!.Sigma;
        return new ResonanceCurve(sorted, trainedSigma, Best(sorted, p => p.TransitionError), Best(sorted, p => p.DwellDistance));
    }

    /// <summary>½ Σ |p − q| of two histograms, each normalised; 1 when either is empty.</summary>
    private static double TotalVariation(double[] a, double[] b)
    {
        double sa = a.Sum(), sb = b.Sum();
        if (sa == 0 || sb == 0) return 1;
        double d = 0;
        for (int i = 0; i < a.Length; i++) d += Math.Abs(a[i] / sa - b[i] / sb);
        return d / 2;
    }
}
