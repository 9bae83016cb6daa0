using System.Collections.Immutable;

namespace HmmRnn.Analysis.Numerics;

/// <summary>Units grouped by the similarity of their activity (Schaeffer et al. 2020, Fig. 9b–c).</summary>
/// <param name="Labels">Per unit, its cluster 0 … Count − 1 (numbered by each cluster's lowest unit), or −1 for a silent unit.</param>
/// <param name="Count">The number of clusters.</param>
/// <param name="Order">The active units grouped by cluster, ascending within each: the order for a reordered heatmap.</param>
/// <param name="Silent">Units whose activity never changes (no correlation defined); left out of the clustering.</param>
/// <param name="Correlation">Pearson correlation between units' activity, N × N row-major (NaN where a silent unit is involved, 1 on the diagonal).</param>
/// <param name="Threshold">The cut: clusters are merged while their complete-linkage distance is at most this.</param>
public sealed record UnitClusters(ImmutableArray<int> Labels, int Count, ImmutableArray<int> Order, ImmutableArray<int> Silent,
    ImmutableArray<double> Correlation, double Threshold);

/// <summary>
/// Hierarchical clustering of units as in the reference analysis (SPEC B4): each unit is described by
/// its row of the correlation matrix, distances are Euclidean between those rows, clusters merge by
/// complete linkage, and the tree is cut at a fraction (0.5) of the largest distance.
/// </summary>
public static class UnitClustering
{
    /// <summary>Clusters the units of <paramref name="states"/> (time steps × units).</summary>
    /// <param name="states">The network's states over time, each of length N.</param>
    /// <param name="cutFraction">The cut as a fraction of the largest pairwise distance (paper 0.5), in (0, 1].</param>
    /// <exception cref="ArgumentException">Fewer than two steps, ragged or non-finite states, or a cut outside (0, 1].</exception>
    public static UnitClusters Cluster(IReadOnlyList<ImmutableArray<double>> states, double cutFraction = 0.5)
    {
        ArgumentNullException.ThrowIfNull(states);
        if (!(cutFraction > 0 && cutFraction <= 1)) throw new ArgumentOutOfRangeException(nameof(cutFraction), cutFraction, "must be in (0, 1]");
        var correlation = Correlations(states, out var silent);
        int n = states[0].Length;
        var active = Enumerable.Range(0, n).Where(u => !silent.Contains(u)).ToArray();

        // Distances between correlation profiles over the active units.
        int m = active.Length;
        var distance = new double[m, m];
        double max = 0;
        for (int a = 0; a < m; a++)
            for (int b = 0; b < a; b++)
            {
                double s = 0;
                foreach (var k in active)
                {
                    var diff = correlation[active[a] * n + k] - correlation[active[b] * n + k];
                    s += diff * diff;
                }
                distance[a, b] = distance[b, a] = Math.Sqrt(s);
                max = Math.Max(max, distance[a, b]);
            }
        var threshold = cutFraction * max;

        // Complete linkage: repeatedly merge the two clusters whose farthest members are closest,
        // while that distance is within the threshold (heights never decrease, so this is the cut).
        var clusters = active.Select((_, a) => new List<int> { a }).ToList();
        var between = (double[,])distance.Clone(); // complete-linkage distance between clusters, indexed by list position
        while (clusters.Count > 1)
        {
            int bestI = -1, bestJ = -1;
            var best = double.PositiveInfinity;
            for (int i = 0; i < clusters.Count; i++)
                for (int j = i + 1; j < clusters.Count; j++)
                    if (between[i, j] < best) (best, bestI, bestJ) = (between[i, j], i, j);
            if (best > threshold) break;
            clusters[bestI].AddRange(clusters[bestJ]);
            clusters.RemoveAt(bestJ);
            between = Merge(between, bestI, bestJ);
        }

        var groups = clusters.Select(c => c.Select(a => active[a]).Order().ToArray()).OrderBy(c => c[0]).ToArray();
        var labels = Enumerable.Repeat(-1, n).ToArray();
        for (int g = 0; g < groups.Length; g++)
            foreach (var u in groups[g]) labels[u] = g;
        return new UnitClusters(ImmutableArray.Create(labels), groups.Length, [.. groups.SelectMany(g => g)], [.. silent.Order()],
            ImmutableArray.Create(correlation), threshold);
    }

    /// <summary>
    /// The mean of a square matrix over each pair of clusters (e.g. recurrent weights: from cluster b
    /// to cluster a is entry [a, b]); silent units are left out. Self-excitation within pools shows as
    /// positive diagonal means, mutual inhibition as negative off-diagonal ones.
    /// </summary>
    /// <param name="matrix">N × N row-major, rows and columns in unit order.</param>
    /// <param name="clusters">The clustering of the same N units.</param>
    public static ImmutableArray<ImmutableArray<double>> MeanByCluster(ImmutableArray<double> matrix, UnitClusters clusters)
    {
        ArgumentNullException.ThrowIfNull(clusters);
        int n = clusters.Labels.Length;
        if (matrix.Length != n * n) throw new ArgumentException($"has {matrix.Length} entries, expected {n} × {n}", nameof(matrix));
        var sum = new double[clusters.Count, clusters.Count];
        var count = new int[clusters.Count, clusters.Count];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                int a = clusters.Labels[i], b = clusters.Labels[j];
                if (a < 0 || b < 0) continue;
                sum[a, b] += matrix[i * n + j];
                count[a, b]++;
            }
        return [.. Enumerable.Range(0, clusters.Count).Select(a =>
            Enumerable.Range(0, clusters.Count).Select(b => sum[a, b] / count[a, b]).ToImmutableArray())];
    }

    private static double[] Correlations(IReadOnlyList<ImmutableArray<double>> states, out HashSet<int> silent)
    {
        var (_, cov) = SampleMoments.Of(states, nameof(states), "step", "units");
        int n = states[0].Length;
        silent = [.. Enumerable.Range(0, n).Where(i => cov[i * n + i] == 0)];
        var r = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
            {
                var v = i == j ? (silent.Contains(i) ? double.NaN : 1)
                    : silent.Contains(i) || silent.Contains(j) ? double.NaN
                    : Math.Clamp(cov[i * n + j] / Math.Sqrt(cov[i * n + i] * cov[j * n + j]), -1, 1);
                r[i * n + j] = r[j * n + i] = v;
            }
        return r;
    }

    /// <summary>The cluster distance table after merging j into i: complete linkage keeps the larger distance.</summary>
    private static double[,] Merge(double[,] between, int i, int j)
    {
        int k = between.GetLength(0);
        var next = new double[k - 1, k - 1];
        for (int a = 0, na = 0; a < k; a++)
        {
            if (a == j) continue;
            for (int b = 0, nb = 0; b < k; b++)
            {
                if (b == j) continue;
                next[na, nb] = a == i && b != i ? Math.Max(between[i, b], between[j, b])
                    : b == i && a != i ? Math.Max(between[a, i], between[a, j])
                    : between[a, b];
                nb++;
            }
            na++;
        }
        return next;
    }
}
