using System.Collections.Immutable;
using MathNet.Numerics.LinearAlgebra;

namespace HmmRnn.Analysis.Numerics;

/// <summary>
/// Principal components of a set of states (e.g. an RNN's hidden states over a session).
/// </summary>
/// <param name="Mean">The mean state, subtracted before projecting.</param>
/// <param name="Components">Unit-length principal axes, largest variance first; each one's largest-magnitude entry is positive.</param>
/// <param name="Variances">The variance along each component (sample variance, n − 1), descending.</param>
/// <param name="TotalVariance">The sum of the variances of all coordinates (the covariance's trace).</param>
public sealed record PcaResult(ImmutableArray<double> Mean, ImmutableArray<ImmutableArray<double>> Components,
    ImmutableArray<double> Variances, double TotalVariance)
{
    /// <summary>The fraction of the total variance along each component.</summary>
    public ImmutableArray<double> ExplainedFraction => [.. Variances.Select(v => TotalVariance > 0 ? v / TotalVariance : 0)];

    /// <summary>The coordinates of <paramref name="state"/> along the components: (x − mean) · component.</summary>
    /// <param name="state">A state of the same dimension as the data.</param>
    public ImmutableArray<double> Project(ImmutableArray<double> state)
    {
        if (state.Length != Mean.Length) throw new ArgumentException($"has {state.Length} entries, the data {Mean.Length}", nameof(state));
        var scores = new double[Components.Length];
        for (int k = 0; k < scores.Length; k++)
        {
            double s = 0;
            for (int i = 0; i < state.Length; i++) s += (state[i] - Mean[i]) * Components[k][i];
            scores[k] = s;
        }
        return ImmutableArray.Create(scores);
    }
}

/// <summary>Principal component analysis by the eigen-decomposition of the sample covariance (O(n d²); fine for tall data).</summary>
public static class Pca
{
    /// <summary>The leading <paramref name="components"/> principal components of <paramref name="samples"/>.</summary>
    /// <param name="samples">States, each of the same dimension d; at least two.</param>
    /// <param name="components">How many to keep (1 … d); null keeps all d.</param>
    /// <exception cref="ArgumentException">Fewer than two samples, ragged or non-finite samples, or a bad component count.</exception>
    public static PcaResult Fit(IReadOnlyList<ImmutableArray<double>> samples, int? components = null)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var (mean, cov) = SampleMoments.Of(samples, nameof(samples));
        int d = mean.Length;
        var keep = components ?? d;
        if (keep < 1 || keep > d) throw new ArgumentOutOfRangeException(nameof(components), keep, $"must be in [1, {d}]");
        var covariance = Matrix<double>.Build.Dense(d, d, (i, j) => cov[i * d + j]);

        var evd = covariance.Evd(Symmetricity.Symmetric);
        var order = Enumerable.Range(0, d).OrderByDescending(k => evd.EigenValues[k].Real).Take(keep).ToArray();
        var axes = ImmutableArray.CreateBuilder<ImmutableArray<double>>(keep);
        var variances = ImmutableArray.CreateBuilder<double>(keep);
        foreach (var k in order)
        {
            var v = evd.EigenVectors.Column(k);
            var sign = v[v.AbsoluteMaximumIndex()] < 0 ? -1.0 : 1.0;
            axes.Add([.. v.Select(x => sign * x)]);
            variances.Add(Math.Max(0, evd.EigenValues[k].Real)); // a zero eigenvalue may come out as −1e-17
        }
        return new PcaResult(ImmutableArray.Create(mean), axes.MoveToImmutable(), variances.MoveToImmutable(), covariance.Trace());
    }
}
