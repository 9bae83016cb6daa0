using System.Collections.Immutable;
using HmmRnn.Analysis.HmmEmulation;
using HmmRnn.Core;
using HmmRnn.Core.HiddenMarkov;
using HmmRnn.Core.Rnn;
using HmmRnn.Testing;

namespace HmmRnn.Properties;

/// <summary>
/// The verdicts beyond one step (issue 24): lag agreement against the closed form of a two-state chain and hand counts,
/// boundedness on constructed expanding and contracting networks, the frequency-weighted transition error, the faithful word.
/// </summary>
public class FaithfulEmulationTests
{
    private static ImmutableArray<int> S(params int[] symbols) => [.. symbols];

    /// <summary>Two states that emit their own symbol, flipping with probability p: a symbol process that is the chain itself.</summary>
    private static Hmm Flip(double p) => new(ProbabilityVector.Uniform(2),
        StochasticMatrix.FromRows([[1 - p, p], [p, 1 - p]], "transition"), StochasticMatrix.FromRows([[1.0, 0], [0, 1.0]], "emission"));

    [Theory]
    [InlineData(0.05)]
    [InlineData(0.3)]
    [InlineData(0.7)]
    public void Same_output_at_lag_of_a_two_state_chain_is_the_closed_form(double p)
    {
        // The chain's eigenvalues are 1 and 1 − 2p; from the stationary (½, ½), P(o_t+k = o_t) = ½ + ½ (1 − 2p)^k.
        // Bug caught: A^k advanced one lag too many or too few (k + 1 or k − 1 in the exponent), a missing stationary weight.
        var exact = HmmStatistics.SameOutputAtLag(Flip(p), 20);
        for (int k = 1; k <= 20; k++) Assert.Equal(0.5 + 0.5 * Math.Pow(1 - 2 * p, k), exact[k - 1], 12);
    }

    [Fact]
    public void A_sample_of_the_two_state_chain_agrees_at_every_lag_and_a_stickier_one_does_not()
    {
        // 2,000 sequences of 30 steps: ≈ 58,000 pairs at lag 1, 20,000 at lag 20. The sample's P(same) at each lag is within
        // 3 standard errors (√(p(1−p)/n_eff), autocorrelated pairs: n_eff ≥ n/20) ≈ 0.015 of the exact value.
        var hmm = Flip(0.1);
        var rng = Rng.FromSeed(7);
        var own = HmmSampling.Sample(hmm, 2000, 30, rng.Substream(0)).Outputs;
        var sticky = HmmSampling.Sample(Flip(0.05), 2000, 30, rng.Substream(1)).Outputs;
        var exact = HmmStatistics.SameOutputAtLag(hmm, 20);
        var (ownError, _) = Emulation.LagError(EmpiricalStatistics.SameOutputAtLag(own, 20), exact);
        var (stickyError, at) = Emulation.LagError(EmpiricalStatistics.SameOutputAtLag(sticky, 20), exact);
        Assert.True(ownError < 0.02, $"own sample: {ownError}");
        // Closed form of the difference: ½(0.9^k − 0.8^k) is largest where (9/8)^k = ln 0.8 / ln 0.9, k ≈ 6.4 (0.1345 at k = 6).
        var closed = Enumerable.Range(1, 20).Max(k => 0.5 * (Math.Pow(0.9, k) - Math.Pow(0.8, k)));
        Assert.Equal(closed, stickyError, 0.02);
        Assert.InRange(at, 4, 9);
    }

    [Fact]
    public void Lag_error_takes_the_largest_absolute_difference_and_its_lag()
    {
        // By hand: |0.5 − 0.6| = 0.1 at k = 1, |0.4 − 0.1| = 0.3 at k = 2, |0.3 − 0.35| = 0.05 at k = 3.
        var (error, lag) = Emulation.LagError([0.5, 0.4, 0.3], [0.6, 0.1, 0.35]);
        Assert.Equal(0.3, error, 12);
        Assert.Equal(2, lag);
        // A lag without pairs (NaN) cannot pass.
        Assert.True(double.IsPositiveInfinity(Emulation.LagError([0.5, double.NaN], [0.5, 0.5]).Error));
    }

    [Fact]
    public void Row_counts_and_the_weighted_error_by_hand()
    {
        // Pairs of 0 0 1 0 and 2 2: (0,0) (0,1) (1,0) (2,2): rows 0: 2, 1: 1, 2: 1.
        Assert.Equal([2.0, 1, 1], EmpiricalStatistics.RowCounts([S(0, 0, 1, 0), S(2, 2)], 3));
        // Rows' squared errors 0.01 + 0.01 = 0.02 (row 0) and 0.25 + 0.25 = 0.5 (row 1); weights 0.9 and 0.1: 0.018 + 0.05 =
        // 0.068, against the unweighted 0.52 that the rare row dominates.
        var p = StochasticMatrix.FromRows([[0.8, 0.2], [0.5, 0.5]], "p");
        var q = StochasticMatrix.FromRows([[0.9, 0.1], [0.0, 1.0]], "q");
        Assert.Equal(0.068, Emulation.WeightedSquaredError(p, q, [0.9, 0.1]), 12);
        Assert.Equal(0.52, EmpiricalStatistics.TransitionSquaredError(p, q), 12);
    }

    [Fact]
    public void A_contracting_network_is_bounded_and_an_expanding_one_is_not()
    {
        // a = 0.5: h_t is a rectified AR(1) process, stationary with a scale set by the noise; its peak over 200 × 300 steps
        // stays within a few times its median. a = 1.05: whenever the input drive is positive the state grows as 1.05^t,
        // ≈ 2·10⁶ after 300 steps, far past 100 × its median within the horizon of 30 (where 1.05^30 ≈ 4.3).
        // Bug caught: the peak taken over the horizon only (the a = 1.05 runs then stay within it).
        var rng = Rng.FromSeed(3);
        var calm = Boundedness.Measure(ConstructedNetworks.Diagonal(0.5), runs: 200, steps: 300, horizon: 30, rng.Substream(0));
        var growing = Boundedness.Measure(ConstructedNetworks.Diagonal(1.05), runs: 200, steps: 300, horizon: 30, rng.Substream(1));
        Assert.True(calm.Bounded, $"a = 0.5: peak {calm.PeakNorm}, median {calm.MedianNorm}");
        Assert.True(calm.PeakRatio is > 1 and < 50, $"a = 0.5: ratio {calm.PeakRatio}"); // 17 here: half the states are rectified to ≈ 0
        Assert.Equal(0, calm.ExplodedFraction);
        Assert.False(growing.Bounded, $"a = 1.05: peak {growing.PeakNorm}, median {growing.MedianNorm}");
        Assert.True(growing.PeakRatio > 1000, $"ratio {growing.PeakRatio}");
        Assert.True(growing.ExplodedFraction > 0.9, $"exploded {growing.ExplodedFraction}");
    }

    [Fact]
    public void Slow_growth_past_the_horizon_is_caught_against_the_horizons_median()
    {
        // a = 1.02: 1.02^300 ≈ 380 over the 300 steps, 1.02^30 ≈ 1.8 within the horizon. Against the median within the
        // horizon the peak passes 100 ×; against a median over all steps (itself grown ≈ 1.02^150 ≈ 20 ×) it would not.
        // Bug caught: the median taken over every step (the contracting/expanding pair above cannot tell).
        var r = Boundedness.Measure(ConstructedNetworks.Diagonal(1.02), runs: 200, steps: 300, horizon: 30, Rng.FromSeed(5));
        Assert.False(r.Bounded, $"peak {r.PeakNorm}, median {r.MedianNorm}, ratio {r.PeakRatio}");
    }

    [Fact]
    public void A_run_that_overflows_is_unbounded_and_its_peak_infinite()
    {
        // a = 2: 2^300 passes the overflow guard (1e30) after ≈ 100 steps.
        var r = Boundedness.Measure(ConstructedNetworks.Diagonal(2), runs: 5, steps: 300, horizon: 30, Rng.FromSeed(4));
        Assert.False(r.Bounded);
        Assert.True(double.IsPositiveInfinity(r.PeakNorm));
        Assert.Equal(1, r.ExplodedFraction);
    }

    [Fact]
    public void The_verdict_from_norms_by_hand()
    {
        // Median of the horizon's norms {1, 2, 3, 4, 100} is 3: the bound is 300. Peaks 250 and 299 pass, 301 does not.
        var within = new double[] { 1, 2, 3, 4, 100 };
        Assert.True(Boundedness.FromNorms([250, 299], within, 50, 5).Bounded);
        var r = Boundedness.FromNorms([250, 301, 10, 20], within, 50, 5);
        Assert.False(r.Bounded);
        Assert.Equal(3, r.MedianNorm, 12);
        Assert.Equal(301, r.PeakNorm, 12);
        Assert.Equal(0.25, r.ExplodedFraction, 12);
        Assert.False(Boundedness.FromNorms([double.NaN], within, 50, 5).Bounded);
    }

    [Fact]
    public void Faithful_needs_every_verdict_and_a_measured_boundedness()
    {
        var all = new EmulationVerdicts(true, true, true) { Lag = true, Bounded = true };
        Assert.True(all.Faithful);
        Assert.False((all with { Bounded = null }).Faithful);
        Assert.False((all with { Bounded = false }).Faithful);
        Assert.False((all with { Lag = false }).Faithful);
        Assert.False((all with { Dwell = false }).Faithful);
    }

    [Fact]
    public void The_HMMs_own_sample_is_faithful_in_its_sequences_and_an_iid_one_fails_the_lags()
    {
        // fully3 against itself: the sequence verdicts hold (boundedness aside: there is no network); i.i.d. symbols with
        // its frequencies lose every lag: P(same) = ⅓ at every k against 0.93 at k = 1 (closed form of the symmetric chain).
        var hmm = HmmCatalogue.Named("fully3").Hmm;
        var rng = Rng.FromSeed(8);
        var sample = HmmSampling.Sample(hmm, 3000, 30, rng.Substream(0)).Outputs;
        var test = HmmSampling.Sample(hmm, 3000, 30, rng.Substream(1)).Outputs;
        var other = HmmSampling.Sample(hmm, 1000, 30, rng.Substream(2)).Outputs;
        var m = Emulation.Compare(hmm, sample, test, other, boundedness: new BoundednessReport(1, 30, 30, 1, 1, 1, 0, true));
        Assert.True(m.Verdicts.Lag, $"lag error {m.LagError}");
        Assert.True(m.Verdicts.Faithful, $"{m.Verdicts}; lag {m.LagError}, dwell {m.DwellDeviation}, ll {m.LogLikelihoodDeviation}");
        var shuffled = sample.SelectMany(s => s).ToArray();
        rng.Substream(3).Shuffle<int>(shuffled);
        var iid = Enumerable.Range(0, 3000).Select(i => ImmutableArray.Create(shuffled, i * 30, 30)).ToArray();
        var bad = Emulation.Compare(hmm, iid, test, other);
        Assert.False(bad.Verdicts.Lag);
        Assert.True(bad.LagError > 0.5, $"{bad.LagError}");
        Assert.Equal(1, bad.LagErrorAt);
    }

    [Fact]
    public void The_selection_score_is_the_worst_deviation_on_its_goals_scale()
    {
        // 0.005/0.01 = 0.5, 0.03/0.02 = 1.5, 0.05/0.1 = 0.5, |−0.01|/0.02 = 0.5: the worst is the lags' 1.5.
        var a = new SampleAgreement(0.005, 0.03, 0.05, -0.01);
        Assert.Equal(1.5, a.Score(EmulationGoals.Default, bounded: true), 12);
        Assert.Equal(1001.5, a.Score(EmulationGoals.Default, bounded: false), 12);
        Assert.True(double.IsPositiveInfinity(new SampleAgreement(double.NaN, 0, 0, 0).Score(EmulationGoals.Default, true)));
    }

    [Fact]
    public void Agreement_of_a_sample_with_another_sample_of_its_HMM_is_within_every_goal()
    {
        var hmm = HmmCatalogue.Named("linear3").Hmm;
        var rng = Rng.FromSeed(9);
        var a = HmmSampling.Sample(hmm, 5000, 30, rng.Substream(0)).Outputs;
        var b = HmmSampling.Sample(hmm, 5000, 30, rng.Substream(1)).Outputs;
        var agreement = Emulation.Agreement(hmm, a, b);
        Assert.True(agreement.Score(EmulationGoals.Default, true) < 1, $"{agreement}");
        // An impostor: the fully connected chain's sequences are not linear3's (the middle symbol a third of the time against
        // 1%, dwell times ≈ 5 against ≈ 3): the score passes 1.
        var other = HmmSampling.Sample(HmmCatalogue.Named("fully3").Hmm, 5000, 30, rng.Substream(2)).Outputs;
        Assert.True(Emulation.Agreement(hmm, other, b).Score(EmulationGoals.Default, true) > 1);
    }
}
