using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using HmmRnn.Analysis.Numerics;
using HmmRnn.Core;

namespace HmmRnn.Properties;

/// <summary>Unit clustering (SPEC B4: correlation profiles, complete linkage, cut at 0.5 × max distance), checked by brute force.</summary>
public class UnitClusteringProperties
{
    /// <summary>T steps of N units driven by a few shared latent signals with unit-specific loadings and noise.</summary>
    private static Gen<ImmutableArray<double>[]> Activity { get; } =
        from n in Gen.Choose(2, 12)
        from latents in Gen.Choose(1, 3)
        from t in Gen.Choose(20, 80)
        from seed in Gen.Choose(0, int.MaxValue)
        select Make(n, latents, t, seed);

    private static ImmutableArray<double>[] Make(int n, int latents, int t, int seed)
    {
        var rng = new RngStream(Rng.FromSeed(seed));
        var loading = Enumerable.Range(0, n * latents).Select(_ => rng.Normal()).ToArray();
        return [.. Enumerable.Range(0, t).Select(_ =>
        {
            var z = Enumerable.Range(0, latents).Select(_ => rng.Normal()).ToArray();
            return Enumerable.Range(0, n).Select(i => Enumerable.Range(0, latents).Sum(k => loading[i * latents + k] * z[k]) + 0.3 * rng.Normal()).ToImmutableArray();
        })];
    }

    private static double Pearson(IReadOnlyList<ImmutableArray<double>> x, int i, int j)
    {
        double mi = x.Average(s => s[i]), mj = x.Average(s => s[j]);
        double sij = x.Sum(s => (s[i] - mi) * (s[j] - mj)), sii = x.Sum(s => (s[i] - mi) * (s[i] - mi)), sjj = x.Sum(s => (s[j] - mj) * (s[j] - mj));
        return sij / Math.Sqrt(sii * sjj);
    }

    private static double ProfileDistance(IReadOnlyList<ImmutableArray<double>> x, int a, int b)
    {
        int n = x[0].Length;
        return Math.Sqrt(Enumerable.Range(0, n).Sum(k => Math.Pow((k == a ? 1 : Pearson(x, a, k)) - (k == b ? 1 : Pearson(x, b, k)), 2)));
    }

    [Property(MaxTest = 100)]
    public Property Correlations_are_Pearsons() => Prop.ForAll(Activity.ToArbitrary(), x =>
    {
        var c = UnitClustering.Cluster(x);
        int n = x[0].Length;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                var expected = i == j ? 1 : Pearson(x, i, j);
                if (Math.Abs(c.Correlation[i * n + j] - expected) > 1e-9) return false.Label($"r[{i},{j}] = {c.Correlation[i * n + j]} vs {expected}");
            }
        return true.ToProperty();
    });

    [Property(MaxTest = 100)]
    public Property Clusters_are_a_partition_cut_where_complete_linkage_says() => Prop.ForAll(Activity.ToArbitrary(), x =>
    {
        var c = UnitClustering.Cluster(x);
        int n = x[0].Length;
        if (!c.Order.Order().SequenceEqual(Enumerable.Range(0, n))) return false.Label("order is not a permutation of the units");
        var groups = Enumerable.Range(0, c.Count).Select(g => Enumerable.Range(0, n).Where(u => c.Labels[u] == g).ToArray()).ToArray();
        if (groups.Any(g => g.Length == 0)) return false.Label("an empty cluster");
        var maxDistance = Enumerable.Range(0, n).SelectMany(a => Enumerable.Range(0, a).Select(b => ProfileDistance(x, a, b))).DefaultIfEmpty(0).Max();
        if (Math.Abs(c.Threshold - 0.5 * maxDistance) > 1e-9) return false.Label($"threshold {c.Threshold} vs half of {maxDistance}");
        // Within a cluster every pair is within the cut; between two clusters some pair is beyond it.
        foreach (var g in groups)
            foreach (var a in g)
                foreach (var b in g)
                    if (ProfileDistance(x, a, b) > c.Threshold + 1e-9) return false.Label($"units {a}, {b} in one cluster at {ProfileDistance(x, a, b)} > {c.Threshold}");
        for (int g = 0; g < groups.Length; g++)
            for (int h = g + 1; h < groups.Length; h++)
            {
                var complete = groups[g].SelectMany(a => groups[h].Select(b => ProfileDistance(x, a, b))).Max();
                if (complete <= c.Threshold - 1e-9) return false.Label($"clusters {g}, {h} should have merged: {complete} ≤ {c.Threshold}");
            }
        return true.ToProperty();
    });

    [Property(MaxTest = 60)]
    public Property Relabelling_the_units_relabels_the_clusters() => Prop.ForAll(Activity.ToArbitrary(), Gen.Choose(0, int.MaxValue).ToArbitrary(), (x, seed) =>
    {
        int n = x[0].Length;
        var rng = new RngStream(Rng.FromSeed(seed));
        var perm = Enumerable.Range(0, n).OrderBy(_ => rng.Uniform()).ToArray(); // new unit u is old unit perm[u]
        var permuted = x.Select(s => perm.Select(p => s[p]).ToImmutableArray()).ToArray();
        var a = UnitClustering.Cluster(x);
        var b = UnitClustering.Cluster(permuted);
        var same = Enumerable.Range(0, n).All(u => Enumerable.Range(0, n).All(v =>
            (a.Labels[perm[u]] == a.Labels[perm[v]]) == (b.Labels[u] == b.Labels[v])));
        return same.Label("the partition changed under a relabelling of units");
    });

    [Fact]
    public void Two_anti_correlated_pools_are_found_with_their_circuit()
    {
        // Paper Fig. 9b–c: units 0–3 follow s_t, units 4–7 follow −s_t (plus independent noise); weights
        // with self-excitation within pools (+0.5) and mutual inhibition between (−0.4).
        var rng = new RngStream(Rng.FromSeed(9));
        var x = Enumerable.Range(0, 200).Select(_ =>
        {
            var s = rng.Normal();
            return Enumerable.Range(0, 8).Select(i => (i < 4 ? s : -s) + 0.3 * rng.Normal()).ToImmutableArray();
        }).ToArray();
        var c = UnitClustering.Cluster(x);
        Assert.Equal(2, c.Count);
        Assert.Equal([0, 0, 0, 0, 1, 1, 1, 1], c.Labels.ToArray());
        Assert.True(c.Correlation[0 * 8 + 5] < -0.8, $"r(0, 5) = {c.Correlation[5]}");
        var w = Enumerable.Range(0, 64).Select(k => (k / 8 < 4) == (k % 8 < 4) ? 0.5 : -0.4).ToImmutableArray();
        var means = UnitClustering.MeanByCluster(w, c);
        Assert.Equal(0.5, means[0][0], 12);
        Assert.Equal(-0.4, means[0][1], 12);
        Assert.Equal(-0.4, means[1][0], 12);
        Assert.Equal(0.5, means[1][1], 12);
    }

    [Fact]
    public void Silent_units_are_set_aside()
    {
        var x = Enumerable.Range(0, 30).Select(t => ImmutableArray.Create(Math.Sin(t), 2.0, Math.Cos(t), Math.Sin(t) + 0.01 * t)).ToArray();
        var c = UnitClustering.Cluster(x);
        Assert.Equal([1], c.Silent.ToArray());
        Assert.Equal(-1, c.Labels[1]);
        Assert.DoesNotContain(1, c.Order);
        Assert.True(double.IsNaN(c.Correlation[1 * 4 + 0]));
    }

    [Fact]
    public void Bad_inputs_are_named()
    {
        Assert.Contains("at least 2 steps", Assert.Throws<ArgumentException>(() => UnitClustering.Cluster([[1.0, 2.0]])).Message);
        Assert.Contains("step 1 has 1 units", Assert.Throws<ArgumentException>(() => UnitClustering.Cluster([[1.0, 2.0], [1.0]])).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => UnitClustering.Cluster([[1.0, 2.0], [2.0, 1.0]], 0));
    }
}
