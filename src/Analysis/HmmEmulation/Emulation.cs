using System.Collections.Immutable;
using HmmRnn.Analysis.Numerics;
using HmmRnn.Core;
using HmmRnn.Core.HiddenMarkov;

namespace HmmRnn.Analysis.HmmEmulation;

/// <summary>The goals an emulating RNN's sequences are held to, each against its HMM.</summary>
/// <param name="TransitionError">Largest squared error of the output transition matrix (paper's success bar 0.01).</param>
/// <param name="DwellTolerance">Largest relative deviation of the mean dwell time of each common symbol (10%).</param>
/// <param name="LogLikelihoodTolerance">Largest relative deviation of the log-likelihood per step under the HMM (2%).</param>
/// <param name="CommonSymbol">A symbol counts as common (its dwell time is judged) at this stationary frequency or above (5%: leaves out the linear chains' 1% middle symbol).</param>
/// <param name="LagTolerance">Largest |P_RNN(o_t+k = o_t) − P_HMM(o_t+k = o_t)| over k = 1 … <see cref="Emulation.MaxLag"/> (0.02).</param>
public sealed record EmulationGoals(double TransitionError = 0.01, double DwellTolerance = 0.10, double LogLikelihoodTolerance = 0.02,
    double CommonSymbol = 0.05, double LagTolerance = 0.02)
{
    /// <summary>The goals above: the paper's bar for the transition matrix, and ours for dwell times and likelihood.</summary>
    public static EmulationGoals Default { get; } = new();
}

/// <summary>Which goals an emulation meets.</summary>
/// <param name="Transition">Transition-matrix squared error ≤ the goal (the paper's success criterion).</param>
/// <param name="Dwell">Mean dwell time of every common symbol within the tolerance of the HMM sample's.</param>
/// <param name="LogLikelihood">Log-likelihood per step under the HMM within the tolerance of the HMM sample's own (over the RNN sequences the HMM can emit at all).</param>
public sealed record EmulationVerdicts(bool Transition, bool Dwell, bool LogLikelihood)
{
    /// <summary>P(o_t+k = o_t) within the tolerance of the HMM's exact value at every lag k = 1 … <see cref="Emulation.MaxLag"/>.</summary>
    public bool Lag { get; init; }

    /// <summary>Activity bounded over long noise-driven runs (<see cref="Boundedness"/>); null when not measured.</summary>
    public bool? Bounded { get; init; }

    /// <summary>The one-step, dwell and likelihood goals met (the goals before issue 24).</summary>
    public bool All => Transition && Dwell && LogLikelihood;

    /// <summary>
    /// A faithful emulator: bounded, and its sequences the HMM's beyond one step — transition matrix, lag agreement, dwell
    /// times and likelihood all within their goals. False when boundedness was not measured.
    /// </summary>
    public bool Faithful => All && Lag && Bounded == true;
}

/// <summary>An RNN's sequences measured against its HMM (Torre et al. 2025, SPEC A4, and beyond).</summary>
/// <param name="Sequences">RNN sequences measured.</param>
/// <param name="TransitionError">Σ (P − Q)² between the RNN's output transition matrix and the HMM's exact one (paper's success bar 0.01).</param>
/// <param name="TransitionErrorHmmSample">The same error for the HMM's own sample: the floor that sampling noise sets.</param>
/// <param name="RnnTransition">The RNN's output transition matrix, rows of P(o' | o).</param>
/// <param name="ExactTransition">The HMM's exact output transition matrix.</param>
/// <param name="RnnFrequencies">The RNN's symbol frequencies.</param>
/// <param name="ExactFrequencies">The HMM's stationary symbol frequencies.</param>
/// <param name="RnnVolatility">The RNN's probability that consecutive outputs differ.</param>
/// <param name="ExactVolatility">The HMM's exact probability that consecutive outputs differ.</param>
/// <param name="MatchedDistance">Mean distance between Sinkhorn-matched one-hot sequences, RNN against the HMM sample.</param>
/// <param name="MatchedDistanceHmmBaseline">The same, an independent HMM sample against the HMM sample: what a perfect emulator scores.</param>
/// <param name="MatchedSequences">Sequences a side in the matched distances.</param>
/// <param name="RnnMeanDwell">The RNN's mean dwell time per symbol: the mean length of its runs (runs touching a sequence's ends left out).</param>
/// <param name="HmmMeanDwell">The HMM sample's mean dwell time per symbol.</param>
/// <param name="RnnDwellHistogram">The RNN's dwell-time histograms, one per symbol.</param>
/// <param name="HmmDwellHistogram">The HMM sample's dwell-time histograms.</param>
/// <param name="RnnSameAtLag">P(o_{t+k} = o_t) of the RNN for k = 1 … MaxLag.</param>
/// <param name="ExactSameAtLag">The HMM's exact P(o_{t+k} = o_t).</param>
/// <param name="RnnLogLikelihoodPerStep">Mean log-likelihood per step of the RNN's sequences under the HMM (those it can emit).</param>
/// <param name="HmmLogLikelihoodPerStep">The same for the HMM sample.</param>
/// <param name="ImpossibleFraction">Fraction of RNN sequences the HMM cannot emit (log-likelihood −∞).</param>
/// <param name="Verdicts">Which goals the emulation meets.</param>
public sealed record EmulationMetrics(
    int Sequences, double TransitionError, double TransitionErrorHmmSample,
    double[][] RnnTransition, double[][] ExactTransition,
    double[] RnnFrequencies, double[] ExactFrequencies,
    double RnnVolatility, double ExactVolatility,
    double MatchedDistance, double MatchedDistanceHmmBaseline, int MatchedSequences,
    double[] RnnMeanDwell, double[] HmmMeanDwell, double[][] RnnDwellHistogram, double[][] HmmDwellHistogram,
    double[] RnnSameAtLag, double[] ExactSameAtLag,
    double RnnLogLikelihoodPerStep, double HmmLogLikelihoodPerStep, double ImpossibleFraction,
    EmulationVerdicts Verdicts)
{
    /// <summary>
    /// The transition error with each row weighted by the HMM's stationary frequency of its symbol, Σ_v P(v) Σ_w (P − Q)²:
    /// a row the RNN visits a handful of times cannot swing it (the paper's error weighs every row alike).
    /// </summary>
    public double WeightedTransitionError { get; init; }

    /// <summary>How many consecutive pairs of the RNN's sequences start at each symbol: the counts behind each row of <see cref="RnnTransition"/>.</summary>
    public double[] RnnRowCounts { get; init; } = [];

    /// <summary>max over k = 1 … <see cref="Emulation.MaxLag"/> of |P_RNN(o_t+k = o_t) − P_HMM(o_t+k = o_t)|, the HMM's value exact.</summary>
    public double LagError { get; init; }

    /// <summary>The lag k (1-based) where <see cref="LagError"/> is reached.</summary>
    public int LagErrorAt { get; init; }

    /// <summary>Largest relative deviation of a common symbol's mean dwell time from the HMM sample's.</summary>
    public double DwellDeviation { get; init; }

    /// <summary>Relative deviation of the RNN's log-likelihood per step from the HMM sample's (positive: the RNN's sequences are more predictable).</summary>
    public double LogLikelihoodDeviation { get; init; }

    /// <summary>Activity over long noise-driven runs; null when not measured (the comparison of sequences alone).</summary>
    public BoundednessReport? Boundedness { get; init; }
}

/// <summary>
/// An RNN's sequences against a sample of the HMM (e.g. the validation split), on the goals' scale: what model selection can
/// use without the test split. Each deviation is as in <see cref="EmulationMetrics"/>, with the sample in place of the exact
/// values.
/// </summary>
/// <param name="TransitionError">Σ (P − Q)² of the output transition matrices.</param>
/// <param name="LagError">max over k of |P(o_t+k = o_t)| differences.</param>
/// <param name="DwellDeviation">Largest relative deviation of a common symbol's mean dwell time.</param>
/// <param name="LogLikelihoodDeviation">Relative deviation of the log-likelihood per step under the HMM.</param>
public sealed record SampleAgreement(double TransitionError, double LagError, double DwellDeviation, double LogLikelihoodDeviation)
{
    /// <summary>
    /// The worst of the four deviations as a multiple of its goal (≤ 1: every goal met), plus 1000 when the network's activity
    /// is not bounded; NaN counts as +∞. Lower is better.
    /// </summary>
    public double Score(EmulationGoals goals, bool bounded)
    {
        ArgumentNullException.ThrowIfNull(goals);
        var worst = new[]
        {
            TransitionError / goals.TransitionError, LagError / goals.LagTolerance, DwellDeviation / goals.DwellTolerance,
            Math.Abs(LogLikelihoodDeviation) / goals.LogLikelihoodTolerance,
        }.Select(x => double.IsNaN(x) ? double.PositiveInfinity : x).Max();
        return worst + (bounded ? 0 : 1000);
    }
}

/// <summary>The statistics of an HMM sample that <see cref="Emulation.Agreement(Hmm, IReadOnlyList{ImmutableArray{int}}, SampleSummary, EmulationGoals?)"/> compares with.</summary>
/// <param name="Outputs">Symbol frequencies and the output transition matrix.</param>
/// <param name="SameAtLag">P(o_t+k = o_t) for k = 1 … min(<see cref="Emulation.MaxLag"/>, T − 1).</param>
/// <param name="MeanDwell">Each symbol's mean dwell time (runs touching an end left out).</param>
/// <param name="LogLikelihoodPerStep">Mean log-likelihood per step under the HMM.</param>
public sealed record SampleSummary(OutputStatistics Outputs, IReadOnlyList<double> SameAtLag, IReadOnlyList<double> MeanDwell, double LogLikelihoodPerStep);

/// <summary>Compares an emulating RNN's sequences with its HMM.</summary>
public static class Emulation
{
    /// <summary>Lags of <see cref="EmulationMetrics.RnnSameAtLag"/>, longest dwell-time bin, sequences a side for the matched distance.</summary>
    public const int MaxLag = 20, MaxDwell = 60, MatchedSequences = 1000;

    /// <summary>
    /// Every metric of SPEC A4 and the verdicts: <paramref name="rnn"/> against the exact statistics of
    /// <paramref name="hmm"/> and against <paramref name="hmmSample"/> (its held-out test split, as many
    /// sequences); <paramref name="hmmOther"/> (an independent HMM sample) gives the HMM-vs-HMM baseline
    /// of the Sinkhorn-matched distance.
    /// </summary>
    /// <param name="hmm">The HMM emulated.</param>
    /// <param name="rnn">The RNN's sequences.</param>
    /// <param name="hmmSample">The HMM's held-out sample.</param>
    /// <param name="hmmOther">An independent HMM sample.</param>
    /// <param name="goals">The goals (default <see cref="EmulationGoals.Default"/>).</param>
    /// <param name="boundedness">The network's activity over long runs (<see cref="Boundedness.Measure"/>), when measured: it enters the faithful verdict.</param>
    public static EmulationMetrics Compare(Hmm hmm, IReadOnlyList<ImmutableArray<int>> rnn, IReadOnlyList<ImmutableArray<int>> hmmSample,
        IReadOnlyList<ImmutableArray<int>> hmmOther, EmulationGoals? goals = null, BoundednessReport? boundedness = null)
    {
        ArgumentNullException.ThrowIfNull(hmm);
        ArgumentNullException.ThrowIfNull(rnn);
        ArgumentNullException.ThrowIfNull(hmmSample);
        ArgumentNullException.ThrowIfNull(hmmOther);
        goals ??= EmulationGoals.Default;
        if (rnn.Count == 0) throw new ArgumentException("needs at least one RNN sequence", nameof(rnn));
        if (hmmSample.Count == 0) throw new ArgumentException("needs at least one HMM sequence", nameof(hmmSample));
        int V = hmm.Symbols, T = rnn[0].Length;
        var exact = HmmStatistics.Outputs(hmm);
        var rnnStats = EmpiricalStatistics.Outputs(rnn, V);
        var hmmStats = EmpiricalStatistics.Outputs(hmmSample, V);
        var error = EmpiricalStatistics.TransitionSquaredError(rnnStats.Transition, exact.Transition);
        var baselineError = EmpiricalStatistics.TransitionSquaredError(hmmStats.Transition, exact.Transition);

        var m = Math.Min(MatchedSequences, Math.Min(rnn.Count, Math.Min(hmmSample.Count, hmmOther.Count)));
        var sample = EmpiricalStatistics.OneHot(hmmSample, V, m);
        var matched = Sinkhorn.Compute(EmpiricalStatistics.OneHot(rnn, V, m), sample, T * V).MatchedDistance;
        var matchedBaseline = Sinkhorn.Compute(EmpiricalStatistics.OneHot(hmmOther, V, m), sample, T * V).MatchedDistance;

        var rnnHistogram = EmpiricalStatistics.DwellTimes(rnn, V, MaxDwell);
        var hmmHistogram = EmpiricalStatistics.DwellTimes(hmmSample, V, MaxDwell);
        var rnnDwell = rnnHistogram.Select(h => EmpiricalStatistics.MeanDwell(h)).ToArray();
        var hmmDwell = hmmHistogram.Select(h => EmpiricalStatistics.MeanDwell(h)).ToArray();
        var rnnLl = Filtering.LogLikelihoods(hmm, rnn);
        var hmmLl = Filtering.LogLikelihoods(hmm, hmmSample);
        var impossible = rnnLl.Count(double.IsNegativeInfinity) / (double)rnn.Count;
        var rnnPerStep = PerStep(rnnLl, T);
        var hmmPerStep = hmmLl.Average() / hmmSample[0].Length;

        var frequencies = exact.Frequencies.AsSpan().ToArray();
        var dwellDeviation = DwellDeviation(rnnDwell, hmmDwell, frequencies, goals.CommonSymbol);
        var llDeviation = RelativeDeviation(rnnPerStep, hmmPerStep);
        var rnnLag = EmpiricalStatistics.SameOutputAtLag(rnn, MaxLag);
        var exactLag = HmmStatistics.SameOutputAtLag(hmm, MaxLag);
        var (lagError, lagAt) = LagError(rnnLag, exactLag);
        var verdicts = new EmulationVerdicts(error <= goals.TransitionError, dwellDeviation <= goals.DwellTolerance,
            Math.Abs(llDeviation) <= goals.LogLikelihoodTolerance)
        { Lag = lagError <= goals.LagTolerance, Bounded = boundedness?.Bounded };

        return new EmulationMetrics(rnn.Count, error, baselineError,
            rnnStats.Transition.ToRows(), exact.Transition.ToRows(),
            rnnStats.Frequencies.AsSpan().ToArray(), frequencies,
            rnnStats.ChangeProbability, exact.ChangeProbability,
            matched, matchedBaseline, m, rnnDwell, hmmDwell, rnnHistogram, hmmHistogram,
            rnnLag, exactLag, rnnPerStep, hmmPerStep, impossible, verdicts)
        {
            WeightedTransitionError = WeightedSquaredError(rnnStats.Transition, exact.Transition, frequencies),
            RnnRowCounts = EmpiricalStatistics.RowCounts(rnn, V), LagError = lagError, LagErrorAt = lagAt,
            DwellDeviation = dwellDeviation, LogLikelihoodDeviation = llDeviation, Boundedness = boundedness,
        };
    }

    /// <summary>
    /// <paramref name="rnn"/> against a sample of the HMM (<paramref name="reference"/>): transition matrix, P(o_t+k = o_t) for
    /// k = 1 … min(<see cref="MaxLag"/>, T − 1), the mean dwell times of the sample's common symbols, and the log-likelihood per
    /// step under <paramref name="hmm"/>. No exact statistic enters, so the validation split can stand for the HMM.
    /// </summary>
    public static SampleAgreement Agreement(Hmm hmm, IReadOnlyList<ImmutableArray<int>> rnn, IReadOnlyList<ImmutableArray<int>> reference,
        EmulationGoals? goals = null) => Agreement(hmm, rnn, Summarise(hmm, reference), goals);

    /// <summary>
    /// <see cref="Agreement(Hmm, IReadOnlyList{ImmutableArray{int}}, IReadOnlyList{ImmutableArray{int}}, EmulationGoals?)"/> against a
    /// reference sample summarised once (<see cref="Summarise"/>): a training run's validation split is fixed, its generated
    /// sequences change every epoch.
    /// </summary>
    public static SampleAgreement Agreement(Hmm hmm, IReadOnlyList<ImmutableArray<int>> rnn, SampleSummary reference, EmulationGoals? goals = null)
    {
        ArgumentNullException.ThrowIfNull(hmm);
        ArgumentNullException.ThrowIfNull(rnn);
        ArgumentNullException.ThrowIfNull(reference);
        goals ??= EmulationGoals.Default;
        if (rnn.Count == 0) throw new ArgumentException("needs at least one RNN sequence", nameof(rnn));
        int V = hmm.Symbols;
        var ours = EmpiricalStatistics.Outputs(rnn, V);
        var lags = Math.Min(reference.SameAtLag.Count, rnn[0].Length - 1);
        var (lagError, _) = LagError(EmpiricalStatistics.SameOutputAtLag(rnn, lags), reference.SameAtLag.Take(lags).ToArray());
        var dwell = DwellDeviation(MeanDwells(rnn, V), [.. reference.MeanDwell], reference.Outputs.Frequencies.AsSpan().ToArray(), goals.CommonSymbol);
        var ll = RelativeDeviation(PerStep(Filtering.LogLikelihoods(hmm, rnn), rnn[0].Length), reference.LogLikelihoodPerStep);
        return new SampleAgreement(EmpiricalStatistics.TransitionSquaredError(ours.Transition, reference.Outputs.Transition), lagError, dwell, ll);
    }

    /// <summary>What <see cref="Agreement(Hmm, IReadOnlyList{ImmutableArray{int}}, SampleSummary, EmulationGoals?)"/> needs of a reference sample.</summary>
    public static SampleSummary Summarise(Hmm hmm, IReadOnlyList<ImmutableArray<int>> sequences)
    {
        ArgumentNullException.ThrowIfNull(hmm);
        ArgumentNullException.ThrowIfNull(sequences);
        if (sequences.Count == 0) throw new ArgumentException("needs at least one reference sequence", nameof(sequences));
        int V = hmm.Symbols, T = sequences[0].Length;
        return new SampleSummary(EmpiricalStatistics.Outputs(sequences, V), EmpiricalStatistics.SameOutputAtLag(sequences, Math.Min(MaxLag, T - 1)),
            MeanDwells(sequences, V), PerStep(Filtering.LogLikelihoods(hmm, sequences), T));
    }

    /// <summary>Each symbol's mean dwell time in the sequences (runs touching an end left out).</summary>
    private static double[] MeanDwells(IReadOnlyList<ImmutableArray<int>> sequences, int symbols) =>
        [.. EmpiricalStatistics.DwellTimes(sequences, symbols, MaxDwell).Select(h => EmpiricalStatistics.MeanDwell(h))];

    /// <summary>
    /// The largest |ours − theirs| / theirs over the symbols whose frequency is at least <paramref name="common"/>; a NaN mean
    /// (no complete run) counts as +∞.
    /// </summary>
    private static double DwellDeviation(double[] ours, double[] theirs, double[] frequencies, double common)
    {
        double worst = 0;
        for (int v = 0; v < frequencies.Length; v++)
            if (frequencies[v] >= common)
            {
                var d = Math.Abs(RelativeDeviation(ours[v], theirs[v]));
                worst = double.IsNaN(d) ? double.PositiveInfinity : Math.Max(worst, d);
            }
        return worst;
    }

    /// <summary>Mean log-likelihood per step over the sequences the HMM can emit (NaN when it can emit none).</summary>
    private static double PerStep(IEnumerable<double> logLikelihoods, int length) =>
        logLikelihoods.Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average() / length;

    /// <summary>
    /// The largest |a_k − b_k| over the lags and the lag (1-based) where it is reached; a NaN entry (no pair at that lag)
    /// counts as an infinite error.
    /// </summary>
    public static (double Error, int Lag) LagError(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Count != b.Count) throw new ArgumentException($"a has {a.Count} lags, b {b.Count}", nameof(b));
        double worst = 0;
        int at = 0;
        for (int k = 0; k < a.Count; k++)
        {
            var d = Math.Abs(a[k] - b[k]);
            if (double.IsNaN(d)) d = double.PositiveInfinity;
            if (d > worst || at == 0) (worst, at) = (d, k + 1);
        }
        return (worst, at);
    }

    /// <summary>Σ_v w_v Σ_u (P_vu − Q_vu)², rows weighted by <paramref name="rowWeights"/>.</summary>
    public static double WeightedSquaredError(StochasticMatrix p, StochasticMatrix q, IReadOnlyList<double> rowWeights)
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentNullException.ThrowIfNull(q);
        ArgumentNullException.ThrowIfNull(rowWeights);
        if (p.Rows != q.Rows || p.Columns != q.Columns)
            throw new ArgumentException($"shapes differ: {p.Rows} × {p.Columns} against {q.Rows} × {q.Columns}", nameof(q));
        if (rowWeights.Count != p.Rows) throw new ArgumentException($"rowWeights: {rowWeights.Count} weights for {p.Rows} rows", nameof(rowWeights));
        double s = 0;
        for (int v = 0; v < p.Rows; v++)
        {
            double row = 0;
            for (int u = 0; u < p.Columns; u++) row += (p[v, u] - q[v, u]) * (p[v, u] - q[v, u]);
            s += rowWeights[v] * row;
        }
        return s;
    }

    /// <summary>(a − b) / |b|, signed (0 when equal); NaN when either is NaN, ±∞ when b is 0 and a is not.</summary>
    private static double RelativeDeviation(double a, double b) => a == b ? 0 : (a - b) / Math.Abs(b);
}
