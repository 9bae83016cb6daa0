using FsCheck;
using FsCheck.Xunit;
using HmmRnn.Analysis.Ibl;
using HmmRnn.Core;
using HmmRnn.Core.Ibl;

namespace HmmRnn.Properties;

/// <summary>The chronometric curve by signed contrast (<see cref="IblBehaviour.Chronometric"/>): hand-counted, and against brute force.</summary>
public class IblBehaviourProperties
{
    private static IblTrialRecord T(Side block, Side stimulus, double contrast, Side? action, int steps) =>
        new(new IblTrialInfo(0, 0, 0, block, stimulus, contrast), action, steps, double.NaN, 0.5, 0.5);

    [Fact]
    public void Chronometric_curve_is_the_mean_steps_to_act_per_block_side_and_signed_contrast()
    {
        var trials = new[]
        {
            // Right block. +1: steps 2 and 4 (one of them wrong: correctness does not matter) → 3; a time-out after 10 steps is left out.
            T(Side.Right, Side.Right, 1, Side.Right, 2), T(Side.Right, Side.Right, 1, Side.Left, 4), T(Side.Right, Side.Right, 1, null, 10),
            // Zero contrast, stimulus on the left (signed −0) and on the right: one point, mean of 5 and 1.
            T(Side.Right, Side.Left, 0, Side.Left, 5), T(Side.Right, Side.Right, 0, Side.Right, 1),
            // −2.5: one trial, 7 steps.
            T(Side.Right, Side.Left, 2.5, Side.Left, 7),
            // Left block. −0.5: steps 1, 2, 6 → 3; +0.5: 8.
            T(Side.Left, Side.Left, 0.5, Side.Left, 1), T(Side.Left, Side.Left, 0.5, Side.Right, 2), T(Side.Left, Side.Right, 0.5, Side.Right, 8),
            T(Side.Left, Side.Left, 0.5, Side.Left, 6),
        };
        var points = IblBehaviour.Chronometric(trials);
        Assert.Equal(
        [
            (-0.5, Side.Left, 3, 3.0), (0.5, Side.Left, 1, 8.0), (-2.5, Side.Right, 1, 7.0), (0, Side.Right, 2, 3.0), (1, Side.Right, 2, 3.0),
        ], points.Select(p => (p.SignedContrast, p.BlockSide, p.Trials, p.MeanSteps)));
        // Standard errors s/√n by hand: steps 1, 2, 6 → s² = (4 + 1 + 9)/2 = 7, √(7/3); 5, 1 → s² = 8, √(8/2) = 2; 2, 4 → s² = 2,
        // √(2/2) = 1; one trial → none. Bugs caught: the population variance (÷ n: √(14/9) for the first), s without ÷ √n.
        Assert.Equal(Math.Sqrt(7.0 / 3), points[0].StandardError, 12);
        Assert.True(double.IsNaN(points[1].StandardError) && double.IsNaN(points[2].StandardError));
        Assert.Equal(2, points[3].StandardError, 12);
        Assert.Equal(1, points[4].StandardError, 12);
        Assert.False(double.IsNegative(points[3].SignedContrast)); // pooled zero is +0, whichever stimulus side came first
        // The psychometric curve has the same points in the same order, so the two can be drawn and tabulated side by side.
        Assert.Equal(points.Select(p => (p.SignedContrast, p.BlockSide, p.Trials)),
            IblBehaviour.Psychometric(trials).Select(p => (p.SignedContrast, p.BlockSide, p.Trials)));
    }

    [Property(MaxTest = 100)]
    public bool Chronometric_points_are_brute_force_means_over_the_acted_trials_at_their_signed_contrast_and_block(PositiveInt seed, PositiveInt size)
    {
        double[] contrasts = [0, 0.5, 1, 1.5, 2, 2.5];
        var rng = Rng.FromSeed(seed.Get);
        var trials = new IblTrialRecord[size.Get % 200];
        for (int i = 0; i < trials.Length; i++)
        {
            (var block, rng) = rng.NextInt(2);
            (var stimulus, rng) = rng.NextInt(2);
            (var contrast, rng) = rng.NextInt(contrasts.Length);
            (var action, rng) = rng.NextInt(3);
            (var steps, rng) = rng.NextInt(20);
            Side S(int x) => x == 0 ? Side.Left : Side.Right;
            trials[i] = T(S(block), S(stimulus), contrasts[contrast], action == 2 ? null : S(action), steps + 1);
        }
        var points = IblBehaviour.Chronometric(trials);
        var acted = trials.Where(t => t.Action is not null).ToArray();
        // Every acted trial in exactly one point; points ordered by block side, then signed contrast; each point's mean by brute force.
        if (points.Sum(p => p.Trials) != acted.Length) return false;
        for (int k = 1; k < points.Count; k++)
            if ((points[k - 1].BlockSide, points[k - 1].SignedContrast).CompareTo((points[k].BlockSide, points[k].SignedContrast)) >= 0) return false;
        foreach (var p in points)
        {
            var at = acted.Where(t => t.Trial.BlockSide == p.BlockSide && t.Trial.Contrast == Math.Abs(p.SignedContrast)
                && (t.Trial.Contrast == 0 || (int)t.Trial.StimulusSide == Math.Sign(p.SignedContrast))).ToArray();
            if (at.Length != p.Trials || Math.Abs(at.Average(t => (double)t.ObservationSteps) - p.MeanSteps) > 1e-12) return false;
        }
        return true;
    }

    [Fact]
    public void Wilson_intervals_match_their_closed_form_values()
    {
        // Wilson (1927) at z = 1.96: 5 of 10 → centre 0.5, half-width (1.96 / 1.38415) · √(0.025 + 0.0096040) = 0.263408 →
        // [0.236593, 0.763407]; 0 of 10 → [0, 0.38415 / 1.38415] = [0, 0.277533]; 10 of 10 mirrors it. Bugs caught: the Wald
        // interval (0.5 ± 0.309903, and [0, 0] at p̂ = 0), z² and z mixed up, the centre left at p̂.
        var half = HmmRnn.Analysis.Ibl.Interval.Wilson(0.5, 10);
        Assert.Equal(0.236593, half.Lower, 5);
        Assert.Equal(0.763407, half.Upper, 5);
        var none = HmmRnn.Analysis.Ibl.Interval.Wilson(0, 10);
        Assert.Equal(0, none.Lower, 12);
        Assert.Equal(0.277533, none.Upper, 5);
        var all = HmmRnn.Analysis.Ibl.Interval.Wilson(1, 10);
        Assert.Equal(1 - 0.277533, all.Lower, 5);
        Assert.Equal(1, all.Upper, 12);
    }
}
