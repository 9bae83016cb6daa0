namespace HmmRnn.Core.Ibl;

/// <summary>The three inputs of one step: left and right observations and the feedback signal r.</summary>
/// <param name="Left">o^L, the left observation (0 on a blank step).</param>
/// <param name="Right">o^R, the right observation (0 on a blank step).</param>
/// <param name="Feedback">r: the previous trial's reward or punishment on a trial's first step, the wait penalty on other observation steps.</param>
public readonly record struct IblInput(double Left, double Right, double Feedback)
{
    /// <summary>The inputs a network takes a step: <see cref="Width"/> channels.</summary>
    public const int Width = 3;

    /// <summary>
    /// The network's inputs, in the one order every IBL network is trained and run on — left, right, feedback — the packing
    /// the training (torch), the reference dynamics, RADD and the analyses all share.
    /// </summary>
    public double[] ToArray() => [Left, Right, Feedback];

    /// <summary>Writes <see cref="ToArray"/>'s channels into the first <see cref="Width"/> places of <paramref name="destination"/> (a batch row).</summary>
    public void CopyTo(Span<double> destination) => (destination[0], destination[1], destination[2]) = (Left, Right, Feedback);
}

/// <summary>
/// The IBL task's action rule (Schaeffer et al. 2020, §2.1), once for every agent — the Bayesian actors, the trained networks
/// (on torch and on arrays), RADD's distilled model: never on a blank step; right when P(right) exceeds the threshold, else
/// left when P(left) does, else wait.
/// </summary>
public static class IblActionRule
{
    /// <summary>The paper's action threshold: 0.9.</summary>
    public const double PaperThreshold = 0.9;

    /// <summary>The action on a step, or null (wait).</summary>
    /// <param name="blank">A blank step: nothing to act on.</param>
    /// <param name="probabilityLeft">P(left).</param>
    /// <param name="probabilityRight">P(right).</param>
    /// <param name="threshold">The task's threshold (<see cref="IblTaskConfig.ActionThreshold"/>).</param>
    public static Side? Act(bool blank, double probabilityLeft, double probabilityRight, double threshold) =>
        blank ? null : probabilityRight > threshold ? Side.Right : probabilityLeft > threshold ? Side.Left : null;

    /// <summary>Why <paramref name="threshold"/> cannot be an action threshold (it must lie in (0.5, 1): at most one side can pass it), or null.</summary>
    public static Violation? Problem(double threshold) =>
        threshold > 0.5 && threshold < 1 ? null : Violation.Of("ActionThreshold", threshold, "must be in (0.5, 1)");
}

/// <summary>What the task drew for a trial (hidden from the agent).</summary>
/// <param name="Index">Trial number in the session, from 0.</param>
/// <param name="Block">Block number in the session, from 0.</param>
/// <param name="TrialInBlock">Trials of this block before this one.</param>
/// <param name="BlockSide">b_n.</param>
/// <param name="StimulusSide">s_n, the correct action.</param>
/// <param name="Contrast">μ_n.</param>
public sealed record IblTrialInfo(int Index, int Block, int TrialInBlock, Side BlockSide, Side StimulusSide, double Contrast)
{
    /// <summary>The stimulus is on the block's side.</summary>
    public bool Concordant => BlockSide == StimulusSide;
}

/// <summary>One step of the task as the agent meets it.</summary>
/// <param name="Trial">The trial it belongs to (hidden from the agent; for analysis).</param>
/// <param name="StepInTrial">From 0; the first <see cref="IblTaskConfig.BlankSteps"/> steps are blank.</param>
/// <param name="IsBlank">A blank step: no stimulus, and no action can be taken.</param>
/// <param name="IsLastStep">The last observation step: no action now is a time-out.</param>
/// <param name="Input">What the agent sees.</param>
public sealed record IblStep(IblTrialInfo Trial, int StepInTrial, bool IsBlank, bool IsLastStep, IblInput Input);

/// <summary>How a trial ended.</summary>
/// <param name="Trial">The trial.</param>
/// <param name="Action">The side chosen, or null for a time-out.</param>
/// <param name="ObservationSteps">Observation steps seen before the action (the reaction time), or all of them on a time-out.</param>
public sealed record IblOutcome(IblTrialInfo Trial, Side? Action, int ObservationSteps)
{
    /// <summary>An action on the stimulus side.</summary>
    public bool Correct => Action == Trial.StimulusSide;

    /// <summary>No action by the last step.</summary>
    public bool TimedOut => Action is null;

    /// <summary>The true side, as the agent learns it from the feedback: known only when it acted.</summary>
    public Side? RevealedSide => Action is null ? null : Trial.StimulusSide;
}

/// <summary>The environment's whole state: immutable; <see cref="IblEnvironment.Advance"/> gives the next one.</summary>
/// <param name="Config">The task.</param>
/// <param name="Current">The step the agent is looking at now.</param>
/// <param name="Rng">The generator for what comes next.</param>
public sealed record IblState(IblTaskConfig Config, IblStep Current, Rng Rng);

/// <summary>
/// The IBL task (Schaeffer et al. 2020, §2.1) as a pure state-transition function that any
/// agent drives: an RNN, a Bayesian actor, a test.
/// </summary>
/// <remarks>
/// Timing (paper §2.1 and the reference code): a trial opens with blank steps (inputs 0); then
/// each observation step shows o^S ~ N(μ, σ) on the stimulus side and N(0, σ) on the other, with
/// r = the wait penalty. An action on an observation step ends the trial; so does the last
/// observation step without one (a time-out). The feedback — reward after a correct action,
/// punishment after a wrong one or a time-out — is the r input of the next step, the next
/// trial's first. Actions on blank steps are ignored. Blocks end after each trial with the
/// config's hazard on the block's length so far, and the next block takes the other side.
/// </remarks>
public static class IblEnvironment
{
    /// <summary>A new session: first block side uniform, first trial's first step.</summary>
    public static IblState Start(IblTaskConfig config, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        var (u, r) = rng.NextDouble();
        var side = u < 0.5 ? Side.Left : Side.Right;
        var (trial, r2) = DrawTrial(config, 0, 0, 0, side, r);
        var (step, r3) = DrawStep(config, trial, 0, feedback: 0, r2);
        return new IblState(config, step, r3);
    }

    /// <summary>
    /// The agent's reply to <see cref="IblState.Current"/> (a side, or null to wait): the outcome if
    /// the trial ended, and the next state.
    /// </summary>
    public static (IblOutcome? Outcome, IblState Next) Advance(IblState state, Side? action)
    {
        ArgumentNullException.ThrowIfNull(state);
        var c = state.Config;
        var step = state.Current;
        var t = step.Trial;
        if (step.IsBlank) action = null;
        if (action is null && !step.IsLastStep)
        {
            var (next, r) = DrawStep(c, t, step.StepInTrial + 1, feedback: 0, state.Rng);
            return (null, state with { Current = next, Rng = r });
        }
        var outcome = new IblOutcome(t, action, step.StepInTrial + 1 - c.BlankSteps);
        var rng = state.Rng;
        // Does the block end after this trial?
        int block = t.Block, inBlock = t.TrialInBlock + 1;
        var blockSide = t.BlockSide;
        var hazard = c.BlockEndHazard(inBlock);
        if (hazard > 0)
        {
            (var u, rng) = rng.NextDouble();
            if (u < hazard) { block++; inBlock = 0; blockSide = blockSide.Opposite(); }
        }
        var (trial, r2) = DrawTrial(c, t.Index + 1, block, inBlock, blockSide, rng);
        var (first, r3) = DrawStep(c, trial, 0, outcome.Correct ? c.Reward : c.Punishment, r2);
        return (outcome, new IblState(c, first, r3));
    }

    private static (IblTrialInfo, Rng) DrawTrial(IblTaskConfig c, int index, int block, int inBlock, Side blockSide, Rng rng)
    {
        var (u, r1) = rng.NextDouble();
        var stimulus = u < c.Concordance ? blockSide : blockSide.Opposite();
        var (k, r2) = r1.NextInt(c.Contrasts.Length);
        return (new IblTrialInfo(index, block, inBlock, blockSide, stimulus, c.Contrasts[k]), r2);
    }

    private static (IblStep, Rng) DrawStep(IblTaskConfig c, IblTrialInfo trial, int stepInTrial, double feedback, Rng rng)
    {
        bool blank = stepInTrial < c.BlankSteps;
        bool last = stepInTrial == c.MaxStepsPerTrial - 1;
        if (blank) return (new IblStep(trial, stepInTrial, true, last, new IblInput(0, 0, feedback)), rng);
        var (z1, r1) = rng.NextNormal();
        var (z2, r2) = r1.NextNormal();
        double onSide = trial.Contrast + c.ObservationNoise * z1, offSide = c.ObservationNoise * z2;
        var r = stepInTrial == 0 ? feedback : c.WaitPenalty;
        var input = trial.StimulusSide == Side.Right ? new IblInput(offSide, onSide, r) : new IblInput(onSide, offSide, r);
        return (new IblStep(trial, stepInTrial, false, last, input), r2);
    }
}
