using System.Collections.Immutable;
using HmmRnn.Core;

namespace HmmRnn.Analysis;

/// <summary>The goals an emulating RNN's sequences are held to, each against its HMM.</summary>
/// <param name="TransitionError">Largest squared error of the output transition matrix (paper's success bar 0.01).</param>
/// <param name="DwellTolerance">Largest relative deviation of the mean dwell time of each common symbol (10%).</param>
/// <param name="LogLikelihoodTolerance">Largest relative deviation of the log-likelihood per step under the HMM (2%).</param>
/// <param name="CommonSymbol">A symbol counts as common (its dwell time is judged) at this stationary frequency or above (5%: leaves out the linear chains' 1% middle symbol).</param>
public sealed record EmulationGoals(double TransitionError = 0.01, double DwellTolerance = 0.10, double LogLikelihoodTolerance = 0.02,
    double CommonSymbol = 0.05)
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
    /// <summary>Every goal met.</summary>
    public bool All => Transition && Dwell && LogLikelihood;
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
    EmulationVerdicts Verdicts);

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
    public static EmulationMetrics Compare(Hmm hmm, IReadOnlyList<ImmutableArray<int>> rnn, IReadOnlyList<ImmutableArray<int>> hmmSample,
        IReadOnlyList<ImmutableArray<int>> hmmOther, EmulationGoals? goals = null)
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
        var rnnPerStep = rnnLl.Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average() / T;
        var hmmPerStep = hmmLl.Average() / hmmSample[0].Length;

        var frequencies = exact.Frequencies.AsSpan().ToArray();
        var dwellOk = Enumerable.Range(0, V).Where(v => frequencies[v] >= goals.CommonSymbol)
            .All(v => Math.Abs(rnnDwell[v] - hmmDwell[v]) <= goals.DwellTolerance * hmmDwell[v]);
        var verdicts = new EmulationVerdicts(error <= goals.TransitionError, dwellOk,
            Math.Abs(rnnPerStep - hmmPerStep) <= goals.LogLikelihoodTolerance * Math.Abs(hmmPerStep));

        return new EmulationMetrics(rnn.Count, error, baselineError,
            rnnStats.Transition.ToRows(), exact.Transition.ToRows(),
            rnnStats.Frequencies.AsSpan().ToArray(), frequencies,
            rnnStats.ChangeProbability, exact.ChangeProbability,
            matched, matchedBaseline, m, rnnDwell, hmmDwell, rnnHistogram, hmmHistogram,
            EmpiricalStatistics.SameOutputAtLag(rnn, MaxLag), HmmStatistics.SameOutputAtLag(hmm, MaxLag),
            rnnPerStep, hmmPerStep, impossible, verdicts);
    }
}
