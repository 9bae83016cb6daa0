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

/// <summary>A Bayesian agent: the block prior it assumes and when it acts.</summary>
public sealed record BayesianAgent(BlockModel BlockModel, DecisionRule Rule, StimulusModel StimulusModel = StimulusModel.SharedContrast)
{
    /// <summary>The paper's Bayesian actor: Markov block filter, acts at the threshold.</summary>
    public static BayesianAgent Markov { get; } = new(BlockModel.Markov, DecisionRule.Threshold);

    /// <summary>The exact actor: semi-Markov block filter, acts at the threshold.</summary>
    public static BayesianAgent SemiMarkov { get; } = new(BlockModel.SemiMarkov, DecisionRule.Threshold);

    /// <summary>The exact forced-choice actor: semi-Markov block filter, acts on the last step.</summary>
    public static BayesianAgent ForcedChoice { get; } = new(BlockModel.SemiMarkov, DecisionRule.ForcedChoice);

    /// <summary>The reference code's actor: Markov block filter, per-step contrast marginalisation, threshold.</summary>
    public static BayesianAgent ReferenceCode { get; } = new(BlockModel.Markov, DecisionRule.Threshold, StimulusModel.PerStepContrast);

    /// <summary>The CLI names.</summary>
    public static IReadOnlyList<string> Names { get; } = ["markov", "semi-markov", "forced", "reference"];

    /// <summary>By CLI name: markov, semi-markov, forced, reference.</summary>
    public static BayesianAgent Named(string name) => name?.Trim().ToLowerInvariant() switch
    {
        "markov" => Markov,
        "semi-markov" => SemiMarkov,
        "forced" => ForcedChoice,
        "reference" => ReferenceCode,
        _ => throw new ArgumentException($"unknown agent '{name}'; known: {string.Join(", ", Names)}", nameof(name)),
    };
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
            DecisionRule.Threshold => p > belief.Config.ActionThreshold ? Side.Right
                : 1 - p > belief.Config.ActionThreshold ? Side.Left : null,
            DecisionRule.ForcedChoice => step.IsLastStep ? MoreProbable(p) : null,
            DecisionRule.ThresholdOrLastStep => p > belief.Config.ActionThreshold ? Side.Right
                : 1 - p > belief.Config.ActionThreshold ? Side.Left
                : step.IsLastStep ? MoreProbable(p) : null,
            _ => throw new ArgumentOutOfRangeException(nameof(rule), rule, "unknown rule"),
        };
    }

    private static Side MoreProbable(double posteriorRight) => posteriorRight >= 0.5 ? Side.Right : Side.Left;
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
    public bool ObserverCorrect => (ObserverPosteriorRight >= 0.5 ? Side.Right : Side.Left) == Trial.StimulusSide;
}

/// <summary>Runs Bayesian actors through the task, with an exact observer alongside.</summary>
public static class IblSimulation
{
    /// <summary>One session of <paramref name="trials"/> trials.</summary>
    public static ImmutableArray<IblTrialRecord> Run(IblTaskConfig config, BayesianAgent agent, int trials, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(agent);
        if (trials < 0) throw new ArgumentOutOfRangeException(nameof(trials), trials, "must be ≥ 0");
        var records = ImmutableArray.CreateBuilder<IblTrialRecord>(trials);
        var env = IblEnvironment.Start(config, rng);
        var belief = BayesianObserver.Start(config, agent.BlockModel, agent.StimulusModel);
        var observer = BayesianObserver.Start(config, BlockModel.SemiMarkov);
        var blockPrior = belief.Block.PriorRight;
        while (records.Count < trials)
        {
            var step = env.Current;
            belief = BayesianObserver.Observe(belief, step);
            observer = BayesianObserver.Observe(observer, step);
            var action = BayesianActor.Decide(agent.Rule, belief, step);
            (var outcome, env) = IblEnvironment.Advance(env, action);
            if (outcome is null) continue;
            records.Add(new IblTrialRecord(outcome.Trial, outcome.Action, outcome.ObservationSteps, blockPrior,
                BayesianObserver.StimulusPosteriorRight(belief), BayesianObserver.StimulusPosteriorRight(observer)));
            belief = BayesianObserver.EndTrial(belief, outcome.RevealedSide);
            observer = BayesianObserver.EndTrial(observer, outcome.RevealedSide);
            blockPrior = belief.Block.PriorRight;
        }
        return records.MoveToImmutable();
    }

    /// <summary>Independent sessions (session i uses <c>rng.Substream(i)</c>), run in parallel, concatenated in order.</summary>
    public static ImmutableArray<IblTrialRecord> RunSessions(IblTaskConfig config, BayesianAgent agent, int sessions, int trialsPerSession, Rng rng)
    {
        if (sessions < 0) throw new ArgumentOutOfRangeException(nameof(sessions), sessions, "must be ≥ 0");
        var parts = new ImmutableArray<IblTrialRecord>[sessions];
        Parallel.For(0, sessions, i => parts[i] = Run(config, agent, trialsPerSession, rng.Substream(i)));
        return [.. parts.SelectMany(p => p)];
    }
}
