using HmmRnn.Analysis.Numerics;
using HmmRnn.Core;
using HmmRnn.Core.Ibl;
using MathNet.Numerics;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;

namespace HmmRnn.Analysis.Ibl;

/// <summary>
/// The psychometric function with two lapse rates that IBL's analyses fit (the International Brain Laboratory's
/// <c>psychofit.erf_psycho_2gammas</c>; The IBL et al. 2021, eLife 10:e63711, Methods):
/// P(right | c) = γ_L + (1 − γ_L − γ_R) · ½ (1 + erf((c − μ) / σ)).
/// </summary>
/// <param name="Bias">μ: the signed contrast at which the erf is half way (negative: a rightward bias).</param>
/// <param name="Threshold">σ &gt; 0: the contrast scale of the erf (smaller is steeper).</param>
/// <param name="LapseLeft">γ_L: P(right) far on the left, in [0, ½].</param>
/// <param name="LapseRight">γ_R: P(left) far on the right, in [0, ½].</param>
public sealed record PsychometricCurve(double Bias, double Threshold, double LapseLeft, double LapseRight)
{
    /// <summary>P(rightward choice) at signed contrast <paramref name="signedContrast"/>.</summary>
    public double RightwardProbability(double signedContrast) =>
        LapseLeft + (1 - LapseLeft - LapseRight) * 0.5 * (1 + SpecialFunctions.Erf((signedContrast - Bias) / Threshold));
}

/// <summary>Trials at one signed contrast and how many of them chose right.</summary>
/// <param name="SignedContrast">The stimulus contrast, positive on the right.</param>
/// <param name="Trials">Trials with a choice (≥ 0).</param>
/// <param name="Rightward">Of those, rightward choices (0 … <paramref name="Trials"/>).</param>
public readonly record struct ChoiceCount(double SignedContrast, int Trials, int Rightward);

/// <summary>A two-sided interval.</summary>
/// <param name="Lower">Lower end.</param>
/// <param name="Upper">Upper end.</param>
public readonly record struct Interval(double Lower, double Upper)
{
    /// <summary>Whether <paramref name="value"/> lies in [Lower, Upper].</summary>
    public bool Contains(double value) => value >= Lower && value <= Upper;

    /// <summary>
    /// The Wilson score interval of a binomial proportion (Wilson 1927): the p with |p̂ − p| ≤ z √(p(1 − p)/n), i.e. centre
    /// (p̂ + z²/2n) / (1 + z²/n) and half-width z √(p̂(1 − p̂)/n + z²/4n²) / (1 + z²/n). Unlike p̂ ± z √(p̂(1 − p̂)/n) it stays
    /// inside [0, 1] and is not empty at p̂ = 0 or 1. The error bars of behavioural proportions.
    /// </summary>
    /// <param name="fraction">p̂, the observed fraction (0 … 1).</param>
    /// <param name="trials">n ≥ 1.</param>
    /// <param name="z">The normal quantile: 1.96 for 95%.</param>
    public static Interval Wilson(double fraction, int trials, double z = 1.959963984540054)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(trials, 1);
        if (!(fraction >= 0 && fraction <= 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "must be in [0, 1]");
        double n = trials, z2 = z * z, denominator = 1 + z2 / n;
        var centre = (fraction + z2 / (2 * n)) / denominator;
        var half = z * Math.Sqrt(fraction * (1 - fraction) / n + z2 / (4 * n * n)) / denominator;
        return new Interval(Math.Max(0, centre - half), Math.Min(1, centre + half));
    }
}

/// <summary>A maximum-likelihood psychometric fit with parametric-bootstrap percentile intervals.</summary>
/// <param name="Curve">The maximum-likelihood parameters.</param>
/// <param name="Bias">Interval of μ.</param>
/// <param name="Threshold">Interval of σ.</param>
/// <param name="LapseLeft">Interval of γ_L.</param>
/// <param name="LapseRight">Interval of γ_R.</param>
/// <param name="Level">The intervals' nominal coverage (e.g. 0.95).</param>
/// <param name="Resamples">Bootstrap resamples behind the intervals.</param>
/// <param name="Trials">Trials fitted.</param>
/// <param name="LogLikelihood">Σ log P(choices | curve) at the fit (binomial, without the combinatorial constant).</param>
public sealed record PsychometricFitResult(PsychometricCurve Curve, Interval Bias, Interval Threshold, Interval LapseLeft, Interval LapseRight,
    double Level, int Resamples, int Trials, double LogLikelihood);

/// <summary>A block side's psychometric fit.</summary>
/// <param name="BlockSide">The block the trials were in.</param>
/// <param name="Fit">The fit of that block's choices.</param>
public sealed record BlockPsychometricFit(Side BlockSide, PsychometricFitResult Fit);

/// <summary>
/// Fits <see cref="PsychometricCurve"/> to choice counts by maximum likelihood (binomial at each contrast) and gives
/// percentile intervals from a parametric bootstrap: counts redrawn from the fitted curve at each contrast's trial count,
/// refitted. The lapse rates are searched through γ = ½ sin²(u), so that 0 and ½ are reachable, the threshold through
/// σ = exp(v) with σ ≥ 1e-6; Nelder–Mead from two starts (a shallow and a steep erf), restarted once from its minimum.
/// </summary>
public static class PsychometricFit
{
    /// <summary>The smallest threshold searched: a step function as far as any contrast grid can tell.</summary>
    public const double MinimumThreshold = 1e-6;

    /// <summary>The maximum-likelihood curve.</summary>
    /// <param name="counts">At least two distinct contrasts with trials; counts within their trials.</param>
    /// <exception cref="ArgumentException">Fewer than two contrasts with trials, a negative or inconsistent count, a non-finite contrast.</exception>
    public static PsychometricCurve Fit(IReadOnlyList<ChoiceCount> counts)
    {
        Check(counts);
        return Maximise(counts, null).Curve;
    }

    /// <summary>The maximum-likelihood curve with parametric-bootstrap percentile intervals.</summary>
    /// <param name="counts">As for <see cref="Fit"/>.</param>
    /// <param name="resamples">Bootstrap resamples (≥ 20).</param>
    /// <param name="rng">The randomness of the resampling.</param>
    /// <param name="level">Nominal coverage of the intervals, in (0, 1).</param>
    public static PsychometricFitResult FitWithIntervals(IReadOnlyList<ChoiceCount> counts, int resamples, Rng rng, double level = 0.95)
    {
        Check(counts);
        if (resamples < 20) throw new ArgumentOutOfRangeException(nameof(resamples), resamples, "must be ≥ 20");
        if (!(level > 0 && level < 1)) throw new ArgumentOutOfRangeException(nameof(level), level, "must be in (0, 1)");
        var (curve, logLikelihood) = Maximise(counts, null);
        var estimates = new double[4][];
        for (int p = 0; p < 4; p++) estimates[p] = new double[resamples];
        var redrawn = new ChoiceCount[counts.Count];
        for (int r = 0; r < resamples; r++)
        {
            for (int i = 0; i < counts.Count; i++)
            {
                var c = counts[i];
                var probability = curve.RightwardProbability(c.SignedContrast);
                int rightward = 0;
                for (int t = 0; t < c.Trials; t++)
                {
                    (var u, rng) = rng.NextDouble();
                    if (u < probability) rightward++;
                }
                redrawn[i] = c with { Rightward = rightward };
            }
            var refit = Maximise(redrawn, curve).Curve;
            (estimates[0][r], estimates[1][r], estimates[2][r], estimates[3][r]) = (refit.Bias, refit.Threshold, refit.LapseLeft, refit.LapseRight);
        }
        var tail = (1 - level) / 2;
        Interval Percentiles(double[] values) => new(SampleMoments.Quantile(values, tail), SampleMoments.Quantile(values, 1 - tail));
        return new PsychometricFitResult(curve, Percentiles(estimates[0]), Percentiles(estimates[1]), Percentiles(estimates[2]),
            Percentiles(estimates[3]), level, resamples, counts.Sum(c => c.Trials), logLikelihood);
    }

    /// <summary>
    /// One fit per block side of a psychometric curve as <see cref="IblBehaviour.Psychometric"/> gives it (the ±0 points of a
    /// block pooled at contrast 0); a block with fewer than two contrasts is left out.
    /// </summary>
    /// <param name="points">Psychometric points.</param>
    /// <param name="resamples">Bootstrap resamples per block (≥ 20).</param>
    /// <param name="rng">The randomness of the resampling (each block its own substream).</param>
    public static IReadOnlyList<BlockPsychometricFit> PerBlock(IReadOnlyList<PsychometricPoint> points, int resamples, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(points);
        return points.GroupBy(p => p.BlockSide).OrderBy(g => g.Key)
            .Select(g => (Side: g.Key, Counts: g.GroupBy(p => p.SignedContrast).OrderBy(c => c.Key)
                .Select(c => new ChoiceCount(c.Key, c.Sum(p => p.Trials), c.Sum(p => (int)Math.Round(p.RightwardFraction * p.Trials))))
                .Where(c => c.Trials > 0).ToArray()))
            .Where(b => b.Counts.Length >= 2)
            .Select(b => new BlockPsychometricFit(b.Side, FitWithIntervals(b.Counts, resamples, rng.Substream((long)b.Side + 1))))
            .ToArray();
    }

    /// <summary>Σ k log p + (n − k) log(1 − p) over the contrasts (p clamped to [1e-12, 1 − 1e-12]).</summary>
    public static double LogLikelihood(PsychometricCurve curve, IReadOnlyList<ChoiceCount> counts)
    {
        ArgumentNullException.ThrowIfNull(curve);
        ArgumentNullException.ThrowIfNull(counts);
        double sum = 0;
        foreach (var c in counts)
        {
            var p = Math.Clamp(curve.RightwardProbability(c.SignedContrast), 1e-12, 1 - 1e-12);
            sum += c.Rightward * Math.Log(p) + (c.Trials - c.Rightward) * Math.Log(1 - p);
        }
        return sum;
    }

    private static void Check(IReadOnlyList<ChoiceCount> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        foreach (var c in counts)
        {
            if (!double.IsFinite(c.SignedContrast)) throw new ArgumentException($"contrast {c.SignedContrast} is not finite", nameof(counts));
            if (c.Trials < 0 || c.Rightward < 0 || c.Rightward > c.Trials)
                throw new ArgumentException($"at contrast {c.SignedContrast}: {c.Rightward} rightward of {c.Trials} trials", nameof(counts));
        }
        if (counts.Where(c => c.Trials > 0).Select(c => c.SignedContrast).Distinct().Count() < 2)
            throw new ArgumentException("needs trials at two or more distinct contrasts", nameof(counts));
    }

    private static PsychometricCurve FromSearch(Vector<double> x) => new(x[0], Math.Max(MinimumThreshold, Math.Exp(x[1])),
        0.5 * Math.Pow(Math.Sin(x[2]), 2), 0.5 * Math.Pow(Math.Sin(x[3]), 2));

    private static (PsychometricCurve Curve, double LogLikelihood) Maximise(IReadOnlyList<ChoiceCount> counts, PsychometricCurve? start)
    {
        var scale = counts.Where(c => c.SignedContrast != 0).Select(c => Math.Abs(c.SignedContrast)).DefaultIfEmpty(1).Max();
        var objective = ObjectiveFunction.Value(x => -LogLikelihood(FromSearch(x), counts));
        var starts = start is { } s
            ? new[] { s }
            : [new PsychometricCurve(0, scale / 2, 0.02, 0.02), new PsychometricCurve(0, scale / 20, 0.02, 0.02)];
        var step = Vector<double>.Build.Dense([scale / 10, 0.5, 0.2, 0.2]);
        var solver = new NelderMeadSimplex(1e-10, 20_000);
        (PsychometricCurve Curve, double LogLikelihood) best = (starts[0], double.NegativeInfinity);
        foreach (var guess in starts)
        {
            var x = Vector<double>.Build.Dense([guess.Bias, Math.Log(guess.Threshold), Math.Asin(Math.Sqrt(2 * guess.LapseLeft)), Math.Asin(Math.Sqrt(2 * guess.LapseRight))]);
            for (int restart = 0; restart < 2; restart++) x = solver.FindMinimum(objective, x, step).MinimizingPoint;
            var curve = FromSearch(x);
            var value = LogLikelihood(curve, counts);
            if (value > best.LogLikelihood) best = (curve, value);
        }
        return best;
    }
}
