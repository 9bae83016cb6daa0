using HmmRnn.Analysis.Numerics;
using HmmRnn.Core;
using HmmRnn.Core.Rnn;

namespace HmmRnn.Analysis.HmmEmulation;

/// <summary>
/// Whether a noise-driven network's activity stays bounded far past its training horizon: the largest state norm over
/// many runs of several training lengths, against the median state norm within the training length.
/// </summary>
/// <param name="Runs">Noise-driven runs from h = 0.</param>
/// <param name="Steps">Steps per run (the verdict uses 10 × the training length).</param>
/// <param name="Horizon">The training length T: the median norm is taken over steps 1 … T.</param>
/// <param name="MedianNorm">Median ‖h_t‖ over all runs and the steps within the horizon: the network's working scale.</param>
/// <param name="PeakNorm">Largest ‖h_t‖ over all runs and steps (+∞ once a run overflows <see cref="Boundedness.Overflow"/>).</param>
/// <param name="P99PeakNorm">The 99th percentile of the runs' own peaks.</param>
/// <param name="ExplodedFraction">Fraction of runs whose peak passes <see cref="Boundedness.Limit"/> × the median norm.</param>
/// <param name="Bounded">Every run's peak within <see cref="Boundedness.Limit"/> × the median norm (and finite).</param>
public sealed record BoundednessReport(int Runs, int Steps, int Horizon, double MedianNorm, double PeakNorm, double P99PeakNorm,
    double ExplodedFraction, bool Bounded)
{
    /// <summary>Peak over median: how far the largest excursion goes beyond the working scale.</summary>
    public double PeakRatio => MedianNorm > 0 ? PeakNorm / MedianNorm : double.PositiveInfinity;
}

/// <summary>The boundedness check of an emulating network (issue 24): does activity blow up past the training horizon?</summary>
public static class Boundedness
{
    /// <summary>
    /// A run's peak may reach this many times the median state norm and still count as bounded. A stable noise-driven ReLU
    /// network's excursions stay within a few times its working scale (bounded linear3 networks: peak ≤ 19, median ≈ 3–5;
    /// the paper-init linear2 network: p99 peak 9.6 × the median); one with an expanding direction grows geometrically and
    /// passes any such factor within tens of steps (10⁹¹ × in 300 steps).
    /// </summary>
    public const double Limit = 100;

    /// <summary>A run stops being simulated once its norm passes this (its peak is then +∞): float overflow is near.</summary>
    public const double Overflow = 1e30;

    /// <summary>Runs and the multiple of the training length that the verdict uses.</summary>
    public const int DefaultRuns = 1000, HorizonMultiple = 10;

    /// <summary>
    /// The verdict from per-run peaks and the states' norms within the horizon (however they were simulated: on arrays
    /// by <see cref="Measure"/>, or by the training host's tensor model).
    /// </summary>
    /// <param name="peaks">Each run's largest ‖h_t‖ over all its steps (+∞ for a run that overflowed).</param>
    /// <param name="horizonNorms">‖h_t‖ of every run at every step t ≤ <paramref name="horizon"/>.</param>
    /// <param name="steps">Steps per run.</param>
    /// <param name="horizon">The training length T.</param>
    public static BoundednessReport FromNorms(IReadOnlyList<double> peaks, IReadOnlyList<double> horizonNorms, int steps, int horizon)
    {
        ArgumentNullException.ThrowIfNull(peaks);
        ArgumentNullException.ThrowIfNull(horizonNorms);
        if (peaks.Count == 0) throw new ArgumentException("needs at least one run", nameof(peaks));
        if (horizonNorms.Count == 0) throw new ArgumentException("needs at least one state norm within the horizon", nameof(horizonNorms));
        if (horizon < 1) throw new ArgumentOutOfRangeException(nameof(horizon), horizon, "must be ≥ 1");
        if (steps < horizon) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"must be ≥ the horizon {horizon}");
        var median = SampleMoments.Quantile(horizonNorms.Select(x => double.IsNaN(x) ? double.PositiveInfinity : x).ToArray(), 0.5);
        var sorted = peaks.Select(x => double.IsNaN(x) ? double.PositiveInfinity : x).ToArray();
        Array.Sort(sorted);
        var peak = sorted[^1];
        var bound = Limit * median;
        var exploded = sorted.Count(p => !(p <= bound)) / (double)sorted.Length;
        var bounded = double.IsFinite(peak) && median > 0 && peak <= bound;
        return new BoundednessReport(peaks.Count, steps, horizon, median, peak, SampleMoments.Quantile(sorted, 0.99), exploded, bounded);
    }

    /// <summary>
    /// Simulates <paramref name="runs"/> noise-driven runs of <paramref name="steps"/> steps from h = 0 (x_t ~ N(0, σ² I)), in
    /// double precision on Core's reference dynamics, and judges them (<see cref="FromNorms"/>).
    /// </summary>
    public static BoundednessReport Measure(ReluRnnWeights weights, int runs, int steps, int horizon, Rng rng, double sigma = 1)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (runs < 1) throw new ArgumentOutOfRangeException(nameof(runs), runs, "must be ≥ 1");
        if (horizon < 1) throw new ArgumentOutOfRangeException(nameof(horizon), horizon, "must be ≥ 1");
        if (steps < horizon) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"must be ≥ the horizon {horizon}");
        if (!(sigma >= 0 && double.IsFinite(sigma))) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "must be finite and ≥ 0");
        int H = weights.Hidden, D = weights.Input;
        var peaks = new double[runs];
        var norms = new List<double>(runs * horizon);
        var h = new double[H];
        var x = new double[D];
        for (int r = 0; r < runs; r++)
        {
            Array.Clear(h);
            double peak = 0;
            for (int t = 0; t < steps; t++)
            {
                rng = rng.FillNormal(x);
                if (sigma != 1) for (int k = 0; k < D; k++) x[k] *= sigma;
                var next = ReluRnn.Step(weights, h, x);
                next.CopyTo(h, 0);
                var norm = Norm(h);
                if (t < horizon) norms.Add(norm);
                if (!(norm <= Overflow))
                {
                    peak = double.PositiveInfinity;
                    for (int rest = t + 1; rest < horizon; rest++) norms.Add(double.PositiveInfinity);
                    break;
                }
                peak = Math.Max(peak, norm);
            }
            peaks[r] = peak;
        }
        return FromNorms(peaks, norms, steps, horizon);
    }

    private static double Norm(ReadOnlySpan<double> h)
    {
        double s = 0;
        foreach (var v in h) s += v * v;
        return Math.Sqrt(s);
    }
}
