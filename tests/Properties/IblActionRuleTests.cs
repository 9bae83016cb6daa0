using HmmRnn.Core;
using HmmRnn.Core.Ibl;

namespace HmmRnn.Properties;

/// <summary>
/// Issue 18, one place for each rule: the IBL task's action rule (Schaeffer et al. 2020, §2.1: act when an action's
/// probability exceeds 0.9, never on a blank step) and the network's input packing (left, right, feedback). The expected
/// values are the paper's rule read off by hand, not computed by the code under test.
/// </summary>
public class IblActionRuleTests
{
    // Catches: a rule that acts at the threshold itself (≥ instead of >), on a blank step, prefers left when both could
    // pass, or swaps the sides — in any of the agents, since every agent now calls this one rule.
    [Theory]
    [InlineData(false, 0.05, 0.95, 0.9, Side.Right)]
    [InlineData(false, 0.95, 0.05, 0.9, Side.Left)]
    [InlineData(false, 0.1, 0.9, 0.9, null)]  // exactly at the threshold: wait ("exceeds")
    [InlineData(false, 0.5, 0.5, 0.9, null)]
    [InlineData(true, 0.0, 1.0, 0.9, null)]   // a blank step: nothing to act on
    [InlineData(false, 0.3, 0.7, 0.6, Side.Right)]
    public void The_action_rule_acts_only_above_the_threshold_and_never_on_a_blank_step(bool blank, double left, double right, double threshold, Side? expected) =>
        Assert.Equal(expected, IblActionRule.Act(blank, left, right, threshold));

    // Catches: a threshold check that lets 0.5 through (both sides could act) or 1 (none could), and two wordings of the
    // limit (the task's configuration said "(0.5, 1)", the network policy "[0.5, 1)").
    [Fact]
    public void The_threshold_lies_in_the_open_interval_from_one_half_to_one_with_one_wording()
    {
        Assert.Null(IblActionRule.Problem(0.9));
        Assert.Equal("ActionThreshold = 0.5: must be in (0.5, 1)", IblActionRule.Problem(0.5)!.ToString());
        Assert.NotNull(IblActionRule.Problem(1.0));
        Assert.NotNull(IblActionRule.Problem(double.NaN));
        Assert.Equal(0.9, IblTaskConfig.Paper.ActionThreshold);
        static System.Collections.Immutable.ImmutableArray<double> Zeros(int n) => [.. new double[n]];
        var weights = new Core.Rnn.TanhRnnWeights(2, 3, 2, Zeros(4), Zeros(6), Zeros(2), Zeros(4), Zeros(2));
        var policy = new RnnPolicy(weights, Threshold: 0.5);
        var e = Assert.Throws<ArgumentException>(() => policy.Start(IblTaskConfig.Paper));
        Assert.Contains("Threshold = 0.5: must be in (0.5, 1)", e.Message);
    }

    // Catches: a packing that swaps left and right or puts the feedback first (a network trained on one order and run on
    // another), or a batch row written at the wrong offset.
    [Fact]
    public void The_inputs_are_packed_left_right_feedback()
    {
        var input = new IblInput(Left: 0.25, Right: 0.75, Feedback: -1);
        Assert.Equal([0.25, 0.75, -1.0], input.ToArray());
        Assert.Equal([0.25, 0.75, -1.0], RnnPolicy.Inputs(input));
        var batch = new double[2 * IblInput.Width];
        input.CopyTo(batch.AsSpan(IblInput.Width));
        Assert.Equal([0, 0, 0, 0.25, 0.75, -1.0], batch);
    }
}
