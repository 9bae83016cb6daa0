using System.Collections.Immutable;

namespace HmmRnn.Core.Ibl;

/// <summary>When an agent acts.</summary>
public enum DecisionRule
{
    /// <summary>As soon as either side's posterior exceeds the task's action threshold (paper 0.9); may time out.</summary>
    Threshold,
    /// <summary>Waits for the last observation step, then takes the more probable side; never times out.</summary>
    ForcedChoice,
    /// <summary>Acts at the threshold like <see cref="Threshold"/>; if the last step comes first, takes the more probable side.</summary>
    ThresholdOrLastStep,
}

/// <summary>What an agent takes from a time-out's punishment about the trial's stimulus side.</summary>
public enum TimeoutFeedback
{
    /// <summary>Nothing: it did not act, so the −1 says nothing about the side (exact).</summary>
    NothingRevealed,
    /// <summary>
    /// The reference code's actor: reads every −1 as "the side I leaned to was wrong" and takes the
    /// other side as revealed, also after a time-out.
    /// </summary>
    OppositeOfLeaning,
}

/// <summary>A Bayesian agent: the block prior it assumes, when it acts, and how it reads the evidence and the feedback.</summary>
/// <param name="BlockModel">The block prior.</param>
/// <param name="Rule">When it acts.</param>
/// <param name="StimulusModel">How within-trial evidence is weighed.</param>
/// <param name="StimulusPrior">How the block belief becomes the stimulus prior.</param>
/// <param name="TimeoutFeedback">What a time-out reveals to it.</param>
public sealed record BayesianAgent(BlockModel BlockModel, DecisionRule Rule,
    StimulusModel StimulusModel = StimulusModel.SharedContrast,
    StimulusPrior StimulusPrior = StimulusPrior.Concordance,
    TimeoutFeedback TimeoutFeedback = TimeoutFeedback.NothingRevealed)
{
    /// <summary>The paper's Bayesian actor: Markov block filter, acts at the threshold.</summary>
    public static BayesianAgent Markov { get; } = new(BlockModel.Markov, DecisionRule.Threshold);

    /// <summary>The exact actor: semi-Markov block filter, acts at the threshold.</summary>
    public static BayesianAgent SemiMarkov { get; } = new(BlockModel.SemiMarkov, DecisionRule.Threshold);

    /// <summary>The exact forced-choice actor: semi-Markov block filter, acts on the last step.</summary>
    public static BayesianAgent ForcedChoice { get; } = new(BlockModel.SemiMarkov, DecisionRule.ForcedChoice);

    /// <summary>
    /// The reference code's actor (int-brain-lab/ann-rnns, <c>utils/models.py</c> <c>BayesianActor</c>): the
    /// Markov filter and threshold rule of <see cref="Markov"/> with the code's three departures from the paper's
    /// §2.3 — per-step contrast marginalisation, the block prediction used as the stimulus prior, and a side
    /// "revealed" by a time-out. On the reference task it scores the paper's ≈ 86.4% (docs/ibl.md).
    /// </summary>
    public static BayesianAgent ReferenceCode { get; } = new(BlockModel.Markov, DecisionRule.Threshold,
        StimulusModel.PerStepContrast, StimulusPrior.BlockPrediction, TimeoutFeedback.OppositeOfLeaning);

    /// <summary>The named agents.</summary>
    public static IReadOnlyList<string> Names { get; } = ["markov", "semi-markov", "forced", "reference"];

    /// <summary>
    /// Modifiers that switch one of the reference code's departures on, appended with '+' to a name
    /// (e.g. <c>markov+block-prior</c>): <c>per-step-contrast</c>, <c>block-prior</c>, <c>timeout-guess</c>.
    /// </summary>
    public static IReadOnlyList<string> Modifiers { get; } = ["per-step-contrast", "block-prior", "timeout-guess"];

    /// <summary>
    /// By name — markov, semi-markov, forced or reference — optionally followed by modifiers
    /// (<see cref="Modifiers"/>), each after a '+'.
    /// </summary>
    /// <exception cref="ArgumentException">An unknown name or modifier (<see cref="Problem"/>); the message lists the known ones.</exception>
    public static BayesianAgent Named(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (Problem(name) is { } problem) throw problem.ToException();
        var parts = name.Split('+', StringSplitOptions.TrimEntries);
        var agent = parts[0].ToLowerInvariant() switch
        {
            "markov" => Markov,
            "semi-markov" => SemiMarkov,
            "forced" => ForcedChoice,
            "reference" => ReferenceCode,
            _ => throw new InvalidOperationException("unreachable: Problem accepted the name"),
        };
        foreach (var modifier in parts.Skip(1))
            agent = modifier.ToLowerInvariant() switch
            {
                "per-step-contrast" => agent with { StimulusModel = StimulusModel.PerStepContrast },
                "block-prior" => agent with { StimulusPrior = StimulusPrior.BlockPrediction },
                "timeout-guess" => agent with { TimeoutFeedback = TimeoutFeedback.OppositeOfLeaning },
                _ => throw new InvalidOperationException("unreachable: Problem accepted the modifier"),
            };
        return agent;
    }

    /// <summary>
    /// Why <paramref name="name"/> names no agent, as data (field "agent" or "modifier", the part refused, the rule listing
    /// the known ones), or null when <see cref="Named"/> accepts it.
    /// </summary>
    public static Violation? Problem(string? name)
    {
        var parts = (name ?? "").Split('+', StringSplitOptions.TrimEntries);
        if (!Names.Contains(parts[0].ToLowerInvariant())) return Violation.Of("agent", parts[0], $"not an agent; known: {string.Join(", ", Names)}");
        foreach (var modifier in parts.Skip(1))
            if (!Modifiers.Contains(modifier.ToLowerInvariant()))
                return Violation.Of("modifier", modifier, $"not a modifier; known: {string.Join(", ", Modifiers)}");
        return null;
    }

    /// <summary>The belief this agent starts a session with.</summary>
    /// <param name="config">The task.</param>
    public Belief Start(IblTaskConfig config) => BayesianObserver.Start(config, BlockModel, StimulusModel, StimulusPrior);

    /// <summary>
    /// The stimulus side this agent takes as revealed by a trial's feedback: the true side after an
    /// action; after a time-out nothing, or (reference code) the side opposite to its leaning.
    /// </summary>
    /// <param name="outcome">How the trial ended.</param>
    /// <param name="belief">The agent's belief when the trial ended.</param>
    public Side? Learns(IblOutcome outcome, Belief belief)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        ArgumentNullException.ThrowIfNull(belief);
        if (!outcome.TimedOut || TimeoutFeedback == TimeoutFeedback.NothingRevealed) return outcome.RevealedSide;
        return BayesianActor.MoreProbable(BayesianObserver.StimulusPosteriorRight(belief)).Opposite();
    }
}

/// <summary>The actor's decision rule, on a belief that has already taken in the current step.</summary>
public static class BayesianActor
{
    /// <summary>The side to choose now, or null to wait. Never acts on a blank step.</summary>
    public static Side? Decide(DecisionRule rule, Belief belief, IblStep step)
    {
        ArgumentNullException.ThrowIfNull(belief);
        ArgumentNullException.ThrowIfNull(step);
        if (step.IsBlank) return null;
        var p = BayesianObserver.StimulusPosteriorRight(belief);
        return rule switch
        {
            DecisionRule.Threshold => IblActionRule.Act(false, 1 - p, p, belief.Config.ActionThreshold),
            DecisionRule.ForcedChoice => step.IsLastStep ? MoreProbable(p) : null,
            DecisionRule.ThresholdOrLastStep => IblActionRule.Act(false, 1 - p, p, belief.Config.ActionThreshold)
                ?? (step.IsLastStep ? MoreProbable(p) : null),
            _ => throw new ArgumentOutOfRangeException(nameof(rule), rule, "unknown rule"),
        };
    }

    /// <summary>The side with the larger posterior; right on a tie.</summary>
    /// <param name="posteriorRight">P(s = right).</param>
    public static Side MoreProbable(double posteriorRight) => posteriorRight >= 0.5 ? Side.Right : Side.Left;
}

/// <summary>One trial as an agent played it, with the beliefs behind it.</summary>
/// <param name="Trial">What the task drew.</param>
/// <param name="Action">The side chosen; null for a time-out.</param>
/// <param name="ObservationSteps">Observation steps before acting (the reaction time).</param>
/// <param name="BlockPriorRight">The actor's P(b_n = right) at the start of the trial.</param>
/// <param name="PosteriorRight">The actor's P(s_n = right) when the trial ended.</param>
/// <param name="ObserverPosteriorRight">The exact (semi-Markov) observer's P(s_n = right) at the same step, on the same inputs.</param>
public sealed record IblTrialRecord(IblTrialInfo Trial, Side? Action, int ObservationSteps, double BlockPriorRight,
    double PosteriorRight, double ObserverPosteriorRight)
{
    /// <summary>The action was on the stimulus side.</summary>
    public bool Correct => Action == Trial.StimulusSide;

    /// <summary>No action by the last step.</summary>
    public bool TimedOut => Action is null;

    /// <summary>The observer's choice at the actor's action time (the more probable side) was right.</summary>
    public bool ObserverCorrect => BayesianActor.MoreProbable(ObserverPosteriorRight) == Trial.StimulusSide;
}
