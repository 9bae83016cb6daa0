using System.Collections.Immutable;

namespace HmmRnn.Analysis.Numerics;

/// <summary>
/// Mean and covariance of a set of equal-length samples (the one place PCA and unit clustering get them from), and
/// quantiles of a set of values.
/// </summary>
internal static class SampleMoments
{
    /// <summary>
    /// The mean and the sample covariance (divided by n − 1), d × d row-major and symmetric.
    /// Checks that there are at least two samples, all of the same non-zero length, all finite.
    /// </summary>
    /// <param name="samples">The samples (time steps, states …).</param>
    /// <param name="parameter">The caller's parameter name, for the exception.</param>
    /// <param name="sample">What one sample is called in messages ("sample", "step").</param>
    /// <param name="coordinate">What one coordinate is called in messages ("coordinates", "units").</param>
    public static (double[] Mean, double[] Covariance) Of(IReadOnlyList<ImmutableArray<double>> samples, string parameter,
        string sample = "sample", string coordinate = "coordinates")
    {
        if (samples.Count < 2) throw new ArgumentException($"needs at least 2 {sample}s, got {samples.Count}", parameter);
        int d = samples[0].Length;
        if (d == 0) throw new ArgumentException($"{sample}s have no {coordinate}", parameter);
        // The length is checked as each sample is first read (before its values), as it always was.
        return Moments(samples.Count, d, t => samples[t].Length == d ? samples[t].AsSpan()
            : throw new ArgumentException($"{sample} {t} has {samples[t].Length} {coordinate}, {sample} 0 has {d}", parameter), parameter, sample);
    }

    /// <summary>
    /// The same for samples stored as blocks of rows: each block a row-major run of <paramref name="dimension"/>-long samples
    /// (e.g. one trajectory of states), the samples being all rows of all blocks in order.
    /// </summary>
    public static (double[] Mean, double[] Covariance) Of(IReadOnlyList<double[]> blocks, int dimension, string parameter,
        string sample = "sample", string coordinate = "coordinates")
    {
        if (dimension < 1) throw new ArgumentException($"{sample}s have no {coordinate}", parameter);
        var rows = new List<(double[] Block, int Start)>();
        for (int b = 0; b < blocks.Count; b++)
        {
            if (blocks[b].Length % dimension != 0) throw new ArgumentException($"block {b}: {blocks[b].Length} values is not a whole number of {dimension} {coordinate}", parameter);
            for (int start = 0; start < blocks[b].Length; start += dimension) rows.Add((blocks[b], start));
        }
        if (rows.Count < 2) throw new ArgumentException($"needs at least 2 {sample}s, got {rows.Count}", parameter);
        return Moments(rows.Count, dimension, t => rows[t].Block.AsSpan(rows[t].Start, dimension), parameter, sample);
    }

    private delegate ReadOnlySpan<double> Row(int t);

    /// <summary>Mean and covariance of n samples of d coordinates, sample t given by <paramref name="row"/>; checks finiteness.</summary>
    private static (double[] Mean, double[] Covariance) Moments(int n, int d, Row row, string parameter, string sample)
    {
        var mean = new double[d];
        for (int t = 0; t < n; t++)
        {
            var x = row(t);
            for (int i = 0; i < d; i++)
            {
                if (!double.IsFinite(x[i])) throw new ArgumentException($"{sample} {t} contains {x[i]} (at {i})", parameter);
                mean[i] += x[i];
            }
        }
        for (int i = 0; i < d; i++) mean[i] /= n;

        var cov = new double[d * d];
        var centred = new double[d];
        for (int t = 0; t < n; t++)
        {
            var x = row(t);
            for (int i = 0; i < d; i++) centred[i] = x[i] - mean[i];
            for (int i = 0; i < d; i++)
                for (int j = 0; j <= i; j++) cov[i * d + j] += centred[i] * centred[j];
        }
        for (int i = 0; i < d; i++)
            for (int j = 0; j <= i; j++) cov[j * d + i] = cov[i * d + j] /= n - 1;
        return (mean, cov);
    }

    /// <summary>The q-quantile of the values by linear interpolation between order statistics (sorts a copy).</summary>
    internal static double Quantile(double[] values, double q)
    {
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        var position = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(position), hi = (int)Math.Ceiling(position);
        if (lo == hi || double.IsInfinity(sorted[hi])) return lo == hi ? sorted[lo] : sorted[hi];
        return sorted[lo] + (position - lo) * (sorted[hi] - sorted[lo]);
    }
}
