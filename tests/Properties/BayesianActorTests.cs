using HmmRnn.Core.Ibl;

namespace HmmRnn.Properties;

/// <summary>The decision rules on constructed beliefs whose stimulus posterior is known by hand.</summary>
public class BayesianActorTests
{
    /// <summary>Threshold 0.8 (not the paper's 0.9), so that a rule reading a constant instead of the config fails.</summary>
    private static readonly IblTaskConfig Config = IblTaskConfig.Paper with { ActionThreshold = 0.8 };

    /// <summary>
    /// A belief with no evidence yet and the block prediction taken as the stimulus prior: P(s = right) is
    /// the block prior itself (log-likelihood ratio 0 for zero observation steps).
    /// </summary>
    private static Belief Believing(double right) =>
        new(Config, new MarkovBlockBelief(Config.BlockHazard, right), default, StimulusModel.SharedContrast, StimulusPrior.BlockPrediction);

    private static IblStep Step(bool last, bool blank = false) =>
        new(new IblTrialInfo(0, 0, 0, Side.Right, Side.Right, 0), Config.BlankSteps + 1, blank, last, new IblInput(0, 0, 0));

    [Theory]
    // P(right), last step?, expected action of ThresholdOrLastStep
    [InlineData(0.85, false, Side.Right)] // above the threshold: acts at once
    [InlineData(0.15, false, Side.Left)]  // 1 − p above the threshold: acts left
    [InlineData(0.85, true, Side.Right)]
    [InlineData(0.75, false, null)]       // below the threshold, not the last step: waits
    [InlineData(0.30, false, null)]
    [InlineData(0.60, true, Side.Right)]  // last step, below the threshold: the more probable side
    [InlineData(0.40, true, Side.Left)]
    public void Threshold_or_last_step_acts_at_the_threshold_waits_below_it_and_takes_the_likelier_side_at_the_end(double right, bool last, Side? expected)
    {
        var belief = Believing(right);
        Assert.Equal(right, BayesianObserver.StimulusPosteriorRight(belief), 12);
        Assert.Equal(expected, BayesianActor.Decide(DecisionRule.ThresholdOrLastStep, belief, Step(last)));
    }

    [Fact]
    public void The_three_rules_differ_where_they_should()
    {
        // Confident early: Threshold and ThresholdOrLastStep act, ForcedChoice waits for the last step.
        Assert.Equal(Side.Right, BayesianActor.Decide(DecisionRule.Threshold, Believing(0.85), Step(last: false)));
        Assert.Null(BayesianActor.Decide(DecisionRule.ForcedChoice, Believing(0.85), Step(last: false)));
        // Unsure at the end: Threshold times out, the other two take the likelier side.
        Assert.Null(BayesianActor.Decide(DecisionRule.Threshold, Believing(0.4), Step(last: true)));
        Assert.Equal(Side.Left, BayesianActor.Decide(DecisionRule.ForcedChoice, Believing(0.4), Step(last: true)));
        // A blank step never carries an action, however sure the belief.
        Assert.Null(BayesianActor.Decide(DecisionRule.ThresholdOrLastStep, Believing(0.99), Step(last: true, blank: true)));
    }
}
