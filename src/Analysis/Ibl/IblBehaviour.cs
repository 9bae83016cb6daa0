using HmmRnn.Core;
using HmmRnn.Core.Ibl;

namespace HmmRnn.Analysis.Ibl;

/// <summary>How a trial without an action by the last step counts in an accuracy.</summary>
public enum TimeoutPolicy
{
    /// <summary>A time-out is a wrong trial (the task's own feedback: −1).</summary>
    CountAsWrong,
    /// <summary>Time-outs are left out: accuracy among the trials with an action.</summary>
    Exclude,
}

/// <summary>Accuracy over a set of trials.</summary>
/// <param name="Trials">All trials in the set.</param>
/// <param name="Acted">Trials with an action.</param>
/// <param name="Correct">Trials with a correct action.</param>
public readonly record struct Accuracy(int Trials, int Acted, int Correct)
{
    /// <summary>The fraction correct under <paramref name="policy"/>; NaN for an empty set.</summary>
    public double Value(TimeoutPolicy policy) => policy == TimeoutPolicy.CountAsWrong
        ? (Trials == 0 ? double.NaN : (double)Correct / Trials)
        : (Acted == 0 ? double.NaN : (double)Correct / Acted);

    /// <summary>The fraction of trials that timed out.</summary>
    public double TimeoutRate => Trials == 0 ? double.NaN : 1 - (double)Acted / Trials;

    /// <summary>Accuracy of a set of trials.</summary>
    public static Accuracy Of(IEnumerable<IblTrialRecord> trials)
    {
        ArgumentNullException.ThrowIfNull(trials);
        int n = 0, acted = 0, correct = 0;
        foreach (var t in trials)
        {
            n++;
            if (!t.TimedOut) acted++;
            if (t.Correct) correct++;
        }
        return new Accuracy(n, acted, correct);
    }
}

/// <summary>One point of a psychometric/chronometric curve, split by concordance.</summary>
/// <param name="Contrast">μ.</param>
/// <param name="All">Every trial at this contrast.</param>
/// <param name="Concordant">Trials whose stimulus was on the block's side.</param>
/// <param name="Discordant">Trials whose stimulus was on the other side.</param>
/// <param name="MeanStepsConcordant">Mean observation steps before the action, concordant trials with an action.</param>
/// <param name="MeanStepsDiscordant">The same, discordant trials.</param>
public sealed record ContrastPoint(double Contrast, Accuracy All, Accuracy Concordant, Accuracy Discordant,
    double MeanStepsConcordant, double MeanStepsDiscordant);

/// <summary>Accuracy as a function of trials since the block began.</summary>
/// <param name="TrialsSinceChange">Trials of the block before this one (0 = the block's first trial).</param>
/// <param name="All">Every trial at this distance from the change.</param>
/// <param name="ZeroContrast">Trials at this distance with contrast 0, where only the block prior can help.</param>
public sealed record BlockChangePoint(int TrialsSinceChange, Accuracy All, Accuracy ZeroContrast);

/// <summary>One point of the psychometric curve as the field draws it: P(rightward choice) at a signed contrast, for one block side.</summary>
/// <param name="SignedContrast">μ on the right, −μ on the left (0 counts by the stimulus side, kept apart: ±0).</param>
/// <param name="BlockSide">The block the trials were in.</param>
/// <param name="Trials">Trials with an action at this point.</param>
/// <param name="RightwardFraction">Fraction of those whose action was right.</param>
public sealed record PsychometricPoint(double SignedContrast, Side BlockSide, int Trials, double RightwardFraction);

/// <summary>One point of the chronometric curve as the field draws it: mean reaction time at a signed contrast, for one block side.</summary>
/// <param name="SignedContrast">μ on the right, −μ on the left; zero contrast once per block side, both stimulus sides pooled.</param>
/// <param name="BlockSide">The block the trials were in.</param>
/// <param name="Trials">Trials with an action at this point (time-outs have no reaction time and are left out).</param>
/// <param name="MeanSteps">Mean observation steps before the action over those trials.</param>
/// <param name="StandardError">The standard error of that mean, s / √n with the sample standard deviation s; NaN for a single trial.</param>
public sealed record ChronometricPoint(double SignedContrast, Side BlockSide, int Trials, double MeanSteps, double StandardError = double.NaN);

/// <summary>One contrast's row of an agent's summary.</summary>
/// <param name="Contrast">μ.</param>
/// <param name="Trials">Trials at this contrast.</param>
/// <param name="AccuracyTimeoutsWrong">Fraction correct, time-outs wrong.</param>
/// <param name="AccuracyTimeoutsExcluded">Fraction correct among trials with an action.</param>
/// <param name="ConcordantAccuracy">Concordant trials, time-outs wrong.</param>
/// <param name="DiscordantAccuracy">Discordant trials, time-outs wrong.</param>
/// <param name="MeanStepsConcordant">Mean observation steps before acting, concordant trials with an action.</param>
/// <param name="MeanStepsDiscordant">The same, discordant.</param>
public sealed record ContrastRow(double Contrast, int Trials, double AccuracyTimeoutsWrong, double AccuracyTimeoutsExcluded,
    double ConcordantAccuracy, double DiscordantAccuracy, double MeanStepsConcordant, double MeanStepsDiscordant);

/// <summary>An agent's behaviour in numbers: overall and per contrast.</summary>
/// <param name="Agent">Its name.</param>
/// <param name="Trials">Trials played.</param>
/// <param name="AccuracyTimeoutsWrong">Fraction correct, time-outs wrong (the reference code's score).</param>
/// <param name="AccuracyTimeoutsExcluded">Fraction correct among trials with an action.</param>
/// <param name="TimeoutRate">Fraction of trials without an action.</param>
/// <param name="ObserverAccuracy">The exact observer's accuracy on the agent's inputs at the agent's action times.</param>
/// <param name="MeanObservationSteps">Mean observation steps before acting (trials with an action).</param>
/// <param name="ByContrast">Per contrast, ascending.</param>
/// <param name="Psychometric">P(rightward choice) by signed contrast and block side (<see cref="IblBehaviour.Psychometric"/>).</param>
/// <param name="Chronometric">Mean steps to act by signed contrast and block side (<see cref="IblBehaviour.Chronometric"/>).</param>
public sealed record AgentSummary(string Agent, int Trials, double AccuracyTimeoutsWrong, double AccuracyTimeoutsExcluded,
    double TimeoutRate, double ObserverAccuracy, double MeanObservationSteps, IReadOnlyList<ContrastRow> ByContrast,
    IReadOnlyList<PsychometricPoint> Psychometric, IReadOnlyList<ChronometricPoint> Chronometric)
{
    /// <summary>
    /// The psychometric function with lapses fitted to each block side's <see cref="Psychometric"/> curve, with bootstrap intervals
    /// (<see cref="IblBehaviour.WithPsychometricFits"/>); empty until fitted.
    /// </summary>
    public IReadOnlyList<BlockPsychometricFit> PsychometricFits { get; init; } = [];
}

/// <summary>Behaviour curves of the IBL task (Schaeffer et al. 2020, Figs. 2–3) from trial records of any agent.</summary>
public static class IblBehaviour
{
    /// <summary>Per contrast, ascending: accuracy (all, concordant, discordant) and mean reaction steps.</summary>
    public static IReadOnlyList<ContrastPoint> ByContrast(IReadOnlyList<IblTrialRecord> trials)
    {
        ArgumentNullException.ThrowIfNull(trials);
        return trials.GroupBy(t => t.Trial.Contrast).OrderBy(g => g.Key).Select(g => new ContrastPoint(
                g.Key,
                Accuracy.Of(g),
                Accuracy.Of(g.Where(t => t.Trial.Concordant)),
                Accuracy.Of(g.Where(t => !t.Trial.Concordant)),
                MeanSteps(g.Where(t => t.Trial.Concordant)),
                MeanSteps(g.Where(t => !t.Trial.Concordant))))
            .ToArray();
    }

    /// <summary>
    /// Accuracy by trials since the last block change (0 = the first trial of a block), up to
    /// <paramref name="maxTrials"/>; the session's first block is left out (it follows no change).
    /// </summary>
    public static IReadOnlyList<BlockChangePoint> AfterBlockChange(IReadOnlyList<IblTrialRecord> trials, int maxTrials = 30)
    {
        ArgumentNullException.ThrowIfNull(trials);
        if (maxTrials < 1) throw new ArgumentOutOfRangeException(nameof(maxTrials), maxTrials, "must be ≥ 1");
        var after = trials.Where(t => t.Trial.Block > 0 && t.Trial.TrialInBlock < maxTrials).ToArray();
        return Enumerable.Range(0, maxTrials).Select(k =>
        {
            var at = after.Where(t => t.Trial.TrialInBlock == k).ToArray();
            return new BlockChangePoint(k, Accuracy.Of(at), Accuracy.Of(at.Where(t => t.Trial.Contrast == 0)));
        }).ToArray();
    }

    /// <summary>
    /// <paramref name="summary"/> with IBL's psychometric function (bias, threshold, two lapse rates) fitted to each block side's
    /// curve and 95% parametric-bootstrap intervals (<see cref="PsychometricFit.PerBlock"/>).
    /// </summary>
    /// <param name="summary">An agent's summary.</param>
    /// <param name="rng">The bootstrap's randomness.</param>
    /// <param name="resamples">Bootstrap resamples per block side (≥ 20).</param>
    public static AgentSummary WithPsychometricFits(AgentSummary summary, Rng rng, int resamples = 200)
    {
        ArgumentNullException.ThrowIfNull(summary);
        return summary with { PsychometricFits = PsychometricFit.PerBlock(summary.Psychometric, resamples, rng) };
    }

    /// <summary>An agent's trials summarised: accuracy both ways, time-outs, the observer's accuracy, reaction steps, and per contrast.</summary>
    public static AgentSummary Summarise(string agent, IReadOnlyList<IblTrialRecord> trials)
    {
        ArgumentNullException.ThrowIfNull(trials);
        if (trials.Count == 0) throw new ArgumentException("needs at least one trial", nameof(trials));
        var all = Accuracy.Of(trials);
        var rows = ByContrast(trials).Select(p => new ContrastRow(p.Contrast, p.All.Trials,
            p.All.Value(TimeoutPolicy.CountAsWrong), p.All.Value(TimeoutPolicy.Exclude),
            p.Concordant.Value(TimeoutPolicy.CountAsWrong), p.Discordant.Value(TimeoutPolicy.CountAsWrong),
            p.MeanStepsConcordant, p.MeanStepsDiscordant)).ToArray();
        return new AgentSummary(agent, all.Trials, all.Value(TimeoutPolicy.CountAsWrong), all.Value(TimeoutPolicy.Exclude), all.TimeoutRate,
            trials.Count(t => t.ObserverCorrect) / (double)trials.Count, MeanSteps(trials), rows, Psychometric(trials), Chronometric(trials));
    }

    /// <summary>
    /// P(rightward choice) against signed contrast (right positive), one curve per block side, over the
    /// trials with an action — the psychometric curve of the IBL literature. Zero contrast appears once per
    /// block side, pooling both stimulus sides.
    /// </summary>
    public static IReadOnlyList<PsychometricPoint> Psychometric(IReadOnlyList<IblTrialRecord> trials)
    {
        ArgumentNullException.ThrowIfNull(trials);
        return trials.Where(t => !t.TimedOut)
            .GroupBy(t => (Signed: Signed(t.Trial), t.Trial.BlockSide))
            .OrderBy(g => g.Key.BlockSide).ThenBy(g => g.Key.Signed)
            .Select(g => new PsychometricPoint(g.Key.Signed, g.Key.BlockSide, g.Count(), g.Count(t => t.Action == Side.Right) / (double)g.Count()))
            .ToArray();
    }

    /// <summary>
    /// Mean observation steps before acting against signed contrast (right positive), one curve per block side, over the
    /// trials with an action — the chronometric curve of the IBL literature, beside <see cref="Psychometric"/>: the same
    /// points in the same order (block side, then signed contrast ascending). Zero contrast appears once per block side,
    /// pooling both stimulus sides.
    /// </summary>
    public static IReadOnlyList<ChronometricPoint> Chronometric(IReadOnlyList<IblTrialRecord> trials)
    {
        ArgumentNullException.ThrowIfNull(trials);
        return trials.Where(t => !t.TimedOut)
            .GroupBy(t => (Signed: Signed(t.Trial), t.Trial.BlockSide))
            .OrderBy(g => g.Key.BlockSide).ThenBy(g => g.Key.Signed)
            .Select(g =>
            {
                var steps = g.Select(t => (double)t.ObservationSteps).ToArray();
                var mean = steps.Average();
                var standardError = steps.Length < 2 ? double.NaN : Math.Sqrt(steps.Sum(x => (x - mean) * (x - mean)) / (steps.Length - 1) / steps.Length);
                return new ChronometricPoint(g.Key.Signed, g.Key.BlockSide, steps.Length, mean, standardError);
            })
            .ToArray();
    }

    /// <summary>μ signed by the stimulus side; zero contrast is +0 on either side (−1 · 0 would be −0).</summary>
    private static double Signed(IblTrialInfo trial) => trial.Contrast * (int)trial.StimulusSide + 0.0;

    private static double MeanSteps(IEnumerable<IblTrialRecord> trials)
    {
        double sum = 0;
        int n = 0;
        foreach (var t in trials)
        {
            if (t.TimedOut) continue;
            sum += t.ObservationSteps;
            n++;
        }
        return n == 0 ? double.NaN : sum / n;
    }
}
