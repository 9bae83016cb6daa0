using HmmRnn.Analysis.Ibl;
using HmmRnn.Core;
using HmmRnn.Core.Ibl;

namespace HmmRnn.Properties;

/// <summary>
/// The psychometric fit with two lapse rates (<see cref="PsychometricFit"/>): choices generated here from the IBL psychofit
/// definition P(right | c) = γ_L + (1 − γ_L − γ_R) · ½(1 + erf((c − μ)/σ)), written out below independently of the code
/// under test, must give back the parameters that generated them.
/// </summary>
public class PsychometricFitTests
{
    /// <summary>IBL's signed contrasts (The IBL et al. 2021), as fractions.</summary>
    private static readonly double[] Contrasts = [-1, -0.25, -0.125, -0.0625, 0, 0.0625, 0.125, 0.25, 1];

    private static double Truth(double c, double mu, double sigma, double gl, double gr) =>
        gl + (1 - gl - gr) * 0.5 * (1 + MathNet.Numerics.SpecialFunctions.Erf((c - mu) / sigma));

    // Bug caught: the erf's argument scaled by √2 (a normal CDF in place of IBL's erf), swapped lapse rates, a bias of the
    // wrong sign, a lapse transform that cannot reach the truth, an optimiser stopped early.
    [Fact]
    public void Expected_counts_give_back_the_generating_parameters()
    {
        const int n = 1_000_000;
        var counts = Contrasts.Select(c => new ChoiceCount(c, n, (int)Math.Round(n * Truth(c, 0.08, 0.2, 0.04, 0.1)))).ToArray();
        var fit = PsychometricFit.Fit(counts);
        Assert.Equal(0.08, fit.Bias, 3);
        Assert.Equal(0.2, fit.Threshold, 3);
        Assert.Equal(0.04, fit.LapseLeft, 3);
        Assert.Equal(0.1, fit.LapseRight, 3);
        Assert.Equal(Truth(0.1, 0.08, 0.2, 0.04, 0.1), fit.RightwardProbability(0.1), 4);
    }

    // Bug caught: the lapse transform kept away from 0 (e.g. a logistic link): a network without lapses would be fitted with some.
    [Fact]
    public void Choices_without_lapses_fit_lapse_rates_of_zero()
    {
        const int n = 100_000;
        var counts = Contrasts.Select(c => new ChoiceCount(c, n, (int)Math.Round(n * Truth(c, -0.03, 0.1, 0, 0)))).ToArray();
        var fit = PsychometricFit.Fit(counts);
        Assert.InRange(fit.LapseLeft, 0, 1e-4);
        Assert.InRange(fit.LapseRight, 0, 1e-4);
        Assert.Equal(-0.03, fit.Bias, 3);
    }

    // Bug caught: a fit that is not the maximum (a local minimum from one start, a sign error in the objective): the
    // likelihood at the fit must be at least the likelihood at the parameters that generated the data.
    [Fact]
    public void The_fit_is_at_least_as_likely_as_the_truth_on_small_samples()
    {
        var rng = Rng.FromSeed(3);
        for (int dataset = 0; dataset < 25; dataset++)
        {
            (var a, rng) = rng.NextDouble();
            (var b, rng) = rng.NextDouble();
            var truth = new PsychometricCurve(0.3 * (a - 0.5), 0.05 + 0.4 * b, 0.1 * a, 0.1 * (1 - b));
            var counts = new ChoiceCount[Contrasts.Length];
            for (int i = 0; i < Contrasts.Length; i++)
            {
                var p = Truth(Contrasts[i], truth.Bias, truth.Threshold, truth.LapseLeft, truth.LapseRight);
                int right = 0;
                for (int t = 0; t < 40; t++)
                {
                    (var u, rng) = rng.NextDouble();
                    if (u < p) right++;
                }
                counts[i] = new ChoiceCount(Contrasts[i], 40, right);
            }
            var fit = PsychometricFit.Fit(counts);
            Assert.True(PsychometricFit.LogLikelihood(fit, counts) >= PsychometricFit.LogLikelihood(truth, counts) - 1e-6,
                $"dataset {dataset}: fit {fit} less likely than the truth {truth}");
        }
    }

    // Bug caught: intervals from the wrong quantiles (e.g. the interquartile range), resampled from the data's fractions with
    // the wrong trial counts, or not resampled at all: the 95% intervals would miss the truth far more often than 1 in 20.
    // With correct intervals, P(fewer than 15 of 20 cover) under Binomial(20, 0.95) is 3·10⁻⁴.
    [Fact]
    public void Bootstrap_intervals_cover_the_truth_about_as_often_as_stated()
    {
        var rng = Rng.FromSeed(11);
        int biasCovered = 0, thresholdCovered = 0;
        const int datasets = 20, trials = 150;
        for (int dataset = 0; dataset < datasets; dataset++)
        {
            var counts = new ChoiceCount[Contrasts.Length];
            for (int i = 0; i < Contrasts.Length; i++)
            {
                var p = Truth(Contrasts[i], 0.05, 0.15, 0.05, 0.05);
                int right = 0;
                for (int t = 0; t < trials; t++)
                {
                    (var u, rng) = rng.NextDouble();
                    if (u < p) right++;
                }
                counts[i] = new ChoiceCount(Contrasts[i], trials, right);
            }
            var result = PsychometricFit.FitWithIntervals(counts, 100, rng.Substream(dataset + 1));
            Assert.True(result.Bias.Contains(result.Curve.Bias) || result.Bias.Upper - result.Bias.Lower < 1e-9);
            if (result.Bias.Contains(0.05)) biasCovered++;
            if (result.Threshold.Contains(0.15)) thresholdCovered++;
            Assert.Equal(trials * Contrasts.Length, result.Trials);
        }
        Assert.InRange(biasCovered, 15, datasets);
        Assert.InRange(thresholdCovered, 15, datasets);
    }

    // Bug caught: blocks mixed up or the ±0 points not pooled (two points at contrast 0 would be fitted as one with the wrong
    // trial count): a left block biased to the left must have the larger μ (P(right) = ½ further right).
    [Fact]
    public void Per_block_fits_keep_the_blocks_apart_and_pool_plus_and_minus_zero()
    {
        var points = new List<PsychometricPoint>();
        foreach (var (side, mu) in new[] { (Side.Left, 0.1), (Side.Right, -0.1) })
            foreach (var c in Contrasts)
            {
                var p = Truth(c, mu, 0.1, 0.02, 0.02);
                if (c == 0)
                {
                    points.Add(new PsychometricPoint(-0.0, side, 5000, Math.Round(5000 * p) / 5000));
                    points.Add(new PsychometricPoint(0.0, side, 5000, Math.Round(5000 * p) / 5000));
                }
                else points.Add(new PsychometricPoint(c, side, 10_000, Math.Round(10_000 * p) / 10_000));
            }
        var fits = PsychometricFit.PerBlock(points, 20, Rng.FromSeed(1));
        Assert.Equal([Side.Left, Side.Right], fits.Select(f => f.BlockSide));
        Assert.Equal(0.1, fits[0].Fit.Curve.Bias, 2);
        Assert.Equal(-0.1, fits[1].Fit.Curve.Bias, 2);
        Assert.All(fits, f => Assert.Equal(10_000 * Contrasts.Length, f.Fit.Trials));
    }

    // Bug caught: one contrast accepted (the fit is then undetermined and returns any curve), counts out of range accepted.
    [Fact]
    public void Bad_counts_are_refused_naming_the_argument()
    {
        Assert.Equal("counts", Assert.Throws<ArgumentException>(() => PsychometricFit.Fit([new ChoiceCount(0.5, 10, 5)])).ParamName);
        Assert.Equal("counts", Assert.Throws<ArgumentException>(() => PsychometricFit.Fit([new ChoiceCount(0.5, 10, 11), new ChoiceCount(1, 10, 1)])).ParamName);
        Assert.Equal("resamples", Assert.Throws<ArgumentOutOfRangeException>(() =>
            PsychometricFit.FitWithIntervals([new ChoiceCount(0.5, 10, 5), new ChoiceCount(1, 10, 9)], 5, Rng.FromSeed(0))).ParamName);
    }

    // Bug caught: the fits' blocks swapped, the signed contrast's sign flipped, or the fits not attached to the summary. The
    // Bayesian actor weighs a block prior of 0.8 (Schaeffer et al. 2020, §2.1): in a left block it needs rightward evidence to
    // choose right, so its curve's midpoint μ lies right of 0, and left of 0 in a right block.
    [Fact]
    public void The_Bayesian_actor_is_biased_towards_the_block_side()
    {
        var trials = IblSimulation.RunSessions(IblTaskConfig.Paper, BayesianAgent.Markov, 4, 500, Rng.FromSeed(5));
        var summary = IblBehaviour.WithPsychometricFits(IblBehaviour.Summarise("markov", trials), Rng.FromSeed(6), resamples: 40);
        Assert.Equal([Side.Left, Side.Right], summary.PsychometricFits.Select(f => f.BlockSide));
        Assert.True(summary.PsychometricFits[0].Fit.Bias.Lower > 0, $"left block: μ interval {summary.PsychometricFits[0].Fit.Bias}");
        Assert.True(summary.PsychometricFits[1].Fit.Bias.Upper < 0, $"right block: μ interval {summary.PsychometricFits[1].Fit.Bias}");
    }
}
