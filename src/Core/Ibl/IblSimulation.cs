using System.Collections.Immutable;
using HmmRnn.Core.Rnn;

namespace HmmRnn.Core.Ibl;

/// <summary>What a policy does with one step: its action (null: wait) and its P(s_n = right) now.</summary>
/// <param name="Action">The side chosen, or null to wait.</param>
/// <param name="PosteriorRight">The policy's probability that the stimulus is on the right, after this step.</param>
public readonly record struct IblDecision(Side? Action, double PosteriorRight);

/// <summary>
/// Anything that plays the IBL task one step at a time as a pure transition of an immutable
/// state: a Bayesian agent, a trained RNN, a distilled model, a test's scripted agent.
/// </summary>
/// <typeparam name="TState">What the policy carries from step to step (a belief, a hidden state).</typeparam>
public interface IIblPolicy<TState>
{
    /// <summary>The state at the start of a session.</summary>
    TState Start(IblTaskConfig config);

    /// <summary>Takes in the step's input and decides; returns the decision and the state after the step.</summary>
    (IblDecision Decision, TState Next) Step(TState state, IblStep step);

    /// <summary>What the policy takes from a finished trial (its outcome) before the next trial's first step.</summary>
    TState EndTrial(TState state, IblOutcome outcome);

    /// <summary>The policy's P(b_n = right) at the start of a trial, where it has one; NaN otherwise.</summary>
    double BlockPriorRight(TState state);
}

/// <summary>One step as a policy played it, with the exact observer's beliefs on the same inputs.</summary>
/// <param name="Step">The step (inputs and what the task drew).</param>
/// <param name="State">The policy's state after taking in the step (for an RNN: h_t).</param>
/// <param name="Decision">The policy's action and P(s = right).</param>
/// <param name="ObserverPosteriorRight">The exact (semi-Markov) observer's P(s_n = right) after the step.</param>
/// <param name="ObserverBlockPriorRight">The exact observer's P(b_n = right) from the trials before this one.</param>
public sealed record IblStepRecord<TState>(IblStep Step, TState State, IblDecision Decision,
    double ObserverPosteriorRight, double ObserverBlockPriorRight);

/// <summary>A session as a policy played it: its trials and, when asked for, every step.</summary>
/// <param name="Trials">One record per trial.</param>
/// <param name="Steps">Every step in order (empty unless recorded).</param>
public sealed record IblSession<TState>(ImmutableArray<IblTrialRecord> Trials, ImmutableArray<IblStepRecord<TState>> Steps);

/// <summary>A Bayesian agent as a policy: observe, decide by its rule, learn from the feedback.</summary>
/// <param name="Agent">The agent.</param>
public sealed record BayesianPolicy(BayesianAgent Agent) : IIblPolicy<Belief>
{
    /// <inheritdoc />
    public Belief Start(IblTaskConfig config) => Agent.Start(config);

    /// <inheritdoc />
    public (IblDecision Decision, Belief Next) Step(Belief state, IblStep step)
    {
        var belief = BayesianObserver.Observe(state, step);
        var action = BayesianActor.Decide(Agent.Rule, belief, step);
        return (new IblDecision(action, BayesianObserver.StimulusPosteriorRight(belief)), belief);
    }

    /// <inheritdoc />
    public Belief EndTrial(Belief state, IblOutcome outcome) => BayesianObserver.EndTrial(state, Agent.Learns(outcome, state));

    /// <inheritdoc />
    public double BlockPriorRight(Belief state) => state.Block.PriorRight;
}

/// <summary>
/// A tanh RNN with two outputs (left, right) as a policy (Schaeffer et al. 2020, §3.1): the hidden
/// state carries across steps and trials; on an observation step the network acts when either
/// action's probability exceeds the task's threshold (paper 0.9). The feedback reaches it only
/// through the next step's input.
/// </summary>
/// <param name="Weights">The network; output 0 is "left", output 1 "right".</param>
/// <param name="Threshold">The action threshold (paper 0.9; <see cref="IblTaskConfig.ActionThreshold"/>; <see cref="IblActionRule"/>).</param>
public sealed record RnnPolicy(TanhRnnWeights Weights, double Threshold = IblActionRule.PaperThreshold) : IIblPolicy<ImmutableArray<double>>
{
    /// <summary>The network's inputs for one step, in the order it was trained on: left, right, feedback (<see cref="IblInput.ToArray"/>).</summary>
    public static double[] Inputs(IblInput input) => input.ToArray();

    /// <inheritdoc />
    public ImmutableArray<double> Start(IblTaskConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (Weights.Inputs != 3) throw new ArgumentException($"the network takes {Weights.Inputs} inputs; the IBL task gives 3 (left, right, feedback)", nameof(Weights));
        if (Weights.Outputs != 2) throw new ArgumentException($"the network has {Weights.Outputs} outputs; the IBL task needs 2 (left, right)", nameof(Weights));
        if (IblActionRule.Problem(Threshold) is { } threshold) throw (threshold with { Field = nameof(Threshold) }).ToException();
        return ImmutableArray.Create(new double[Weights.Hidden]);
    }

    /// <inheritdoc />
    public (IblDecision Decision, ImmutableArray<double> Next) Step(ImmutableArray<double> state, IblStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        var h = TanhRnn.Step(Weights, state.AsSpan(), Inputs(step.Input));
        var p = TanhRnn.Probabilities(Weights, h);
        return (new IblDecision(IblActionRule.Act(step.IsBlank, p[0], p[1], Threshold), p[1]), ImmutableArray.Create(h));
    }

    /// <inheritdoc />
    public ImmutableArray<double> EndTrial(ImmutableArray<double> state, IblOutcome outcome) => state;

    /// <inheritdoc />
    public double BlockPriorRight(ImmutableArray<double> state) => double.NaN;
}

/// <summary>Runs any policy through the task, with the exact (semi-Markov) observer alongside on the same inputs.</summary>
public static class IblSimulation
{
    /// <summary>One session of <paramref name="trials"/> trials; every step is kept when <paramref name="recordSteps"/>.</summary>
    public static IblSession<TState> Play<TState>(IblTaskConfig config, IIblPolicy<TState> policy, int trials, Rng rng, bool recordSteps = false)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(policy);
        if (trials < 0) throw new ArgumentOutOfRangeException(nameof(trials), trials, "must be ≥ 0");
        var records = ImmutableArray.CreateBuilder<IblTrialRecord>(trials);
        var steps = ImmutableArray.CreateBuilder<IblStepRecord<TState>>();
        var env = IblEnvironment.Start(config, rng);
        var state = policy.Start(config);
        var observer = BayesianObserver.Start(config, BlockModel.SemiMarkov);
        var blockPrior = policy.BlockPriorRight(state);
        var observerBlockPrior = observer.Block.PriorRight;
        while (records.Count < trials)
        {
            var step = env.Current;
            (var decision, state) = policy.Step(state, step);
            observer = BayesianObserver.Observe(observer, step);
            var observerPosterior = BayesianObserver.StimulusPosteriorRight(observer);
            if (recordSteps) steps.Add(new IblStepRecord<TState>(step, state, decision, observerPosterior, observerBlockPrior));
            var action = step.IsBlank ? null : decision.Action;
            (var outcome, env) = IblEnvironment.Advance(env, action);
            if (outcome is null) continue;
            records.Add(new IblTrialRecord(outcome.Trial, outcome.Action, outcome.ObservationSteps, blockPrior,
                decision.PosteriorRight, observerPosterior));
            state = policy.EndTrial(state, outcome);
            observer = BayesianObserver.EndTrial(observer, outcome.RevealedSide);
            blockPrior = policy.BlockPriorRight(state);
            observerBlockPrior = observer.Block.PriorRight;
        }
        return new IblSession<TState>(records.MoveToImmutable(), steps.ToImmutable());
    }

    /// <summary>One session of a Bayesian agent.</summary>
    public static ImmutableArray<IblTrialRecord> Run(IblTaskConfig config, BayesianAgent agent, int trials, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(agent);
        return Play(config, new BayesianPolicy(agent), trials, rng).Trials;
    }

    /// <summary>Independent sessions of any policy (session i uses <c>rng.Substream(i)</c>), run in parallel, trials concatenated in order.</summary>
    public static ImmutableArray<IblTrialRecord> RunSessions<TState>(IblTaskConfig config, IIblPolicy<TState> policy, int sessions, int trialsPerSession, Rng rng)
    {
        if (sessions < 0) throw new ArgumentOutOfRangeException(nameof(sessions), sessions, "must be ≥ 0");
        var parts = new ImmutableArray<IblTrialRecord>[sessions];
        Parallel.For(0, sessions, i => parts[i] = Play(config, policy, trialsPerSession, rng.Substream(i)).Trials);
        return [.. parts.SelectMany(p => p)];
    }

    /// <summary>Independent sessions of a Bayesian agent (session i uses <c>rng.Substream(i)</c>), run in parallel, concatenated in order.</summary>
    public static ImmutableArray<IblTrialRecord> RunSessions(IblTaskConfig config, BayesianAgent agent, int sessions, int trialsPerSession, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(agent);
        return RunSessions(config, new BayesianPolicy(agent), sessions, trialsPerSession, rng);
    }
}
