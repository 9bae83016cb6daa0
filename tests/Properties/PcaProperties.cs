using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using HmmRnn.Analysis.Numerics;
using HmmRnn.Core;

namespace HmmRnn.Properties;

/// <summary>PCA checked against what an orthogonal decomposition of the covariance must satisfy.</summary>
public class PcaProperties
{
    /// <summary>n samples in d dimensions with unequal spread per axis, rotated by a fixed mixing.</summary>
    private static Gen<ImmutableArray<double>[]> Clouds { get; } =
        from d in Gen.Choose(1, 6)
        from n in Gen.Choose(2, 60)
        from seed in Gen.Choose(0, int.MaxValue)
        select Cloud(d, n, seed);

    private static ImmutableArray<double>[] Cloud(int d, int n, int seed)
    {
        var rng = new RngStream(Rng.FromSeed(seed));
        var mix = Enumerable.Range(0, d * d).Select(_ => rng.Normal()).ToArray();
        return [.. Enumerable.Range(0, n).Select(_ =>
        {
            var z = Enumerable.Range(0, d).Select(i => rng.Normal() * (i + 1) + 3).ToArray();
            return Enumerable.Range(0, d).Select(i => Enumerable.Range(0, d).Sum(j => mix[i * d + j] * z[j])).ToImmutableArray();
        })];
    }

    private static double Dot(IReadOnlyList<double> a, IReadOnlyList<double> b) => a.Zip(b, (x, y) => x * y).Sum();

    [Property(MaxTest = 200)]
    public Property Components_are_orthonormal_and_variances_descend() => Prop.ForAll(Clouds.ToArbitrary(), x =>
    {
        var pca = Pca.Fit(x);
        for (int a = 0; a < pca.Components.Length; a++)
        {
            if (a > 0 && pca.Variances[a] > pca.Variances[a - 1] * (1 + 1e-12) + 1e-12) return false.Label($"variance {a} above {a - 1}");
            for (int b = 0; b <= a; b++)
            {
                var dot = Dot(pca.Components[a], pca.Components[b]);
                if (Math.Abs(dot - (a == b ? 1 : 0)) > 1e-9) return false.Label($"component {a} · component {b} = {dot}");
            }
        }
        return true.ToProperty();
    });

    [Property(MaxTest = 200)]
    public Property Scores_have_the_stated_variances_and_all_components_explain_everything() => Prop.ForAll(Clouds.ToArbitrary(), x =>
    {
        var pca = Pca.Fit(x);
        var scores = x.Select(pca.Project).ToArray();
        for (int k = 0; k < pca.Components.Length; k++)
        {
            var mean = scores.Average(s => s[k]);
            var variance = scores.Sum(s => (s[k] - mean) * (s[k] - mean)) / (x.Length - 1);
            if (Math.Abs(mean) > 1e-8 * (1 + Math.Sqrt(pca.TotalVariance))) return false.Label($"mean score {mean} along {k}");
            if (Math.Abs(variance - pca.Variances[k]) > 1e-8 * (1 + pca.TotalVariance)) return false.Label($"score variance {variance} vs {pca.Variances[k]} along {k}");
        }
        var explained = pca.ExplainedFraction.Sum();
        return (Math.Abs(explained - 1) < 1e-9 || pca.TotalVariance == 0).Label($"fractions sum to {explained}");
    });

    [Property(MaxTest = 100)]
    public Property Projecting_and_mapping_back_reconstructs_every_sample() => Prop.ForAll(Clouds.ToArbitrary(), x =>
    {
        var pca = Pca.Fit(x);
        var worst = x.Max(s =>
        {
            var scores = pca.Project(s);
            return Enumerable.Range(0, s.Length).Max(i => Math.Abs(pca.Mean[i] + Enumerable.Range(0, scores.Length).Sum(k => scores[k] * pca.Components[k][i]) - s[i]));
        });
        return (worst < 1e-8 * (1 + x.Max(s => s.Max(Math.Abs)))).Label($"reconstruction error {worst}");
    });

    [Property(MaxTest = 100)]
    public Property States_on_a_plane_are_all_in_two_components() => Prop.ForAll(Gen.Choose(3, 8).ToArbitrary(), Gen.Choose(0, int.MaxValue).ToArbitrary(), (d, seed) =>
    {
        // x = p + a u + b v: the top two components carry all the variance and span u and v.
        var rng = new RngStream(Rng.FromSeed(seed));
        var u = Enumerable.Range(0, d).Select(_ => rng.Normal()).ToArray();
        var v = Enumerable.Range(0, d).Select(_ => rng.Normal()).ToArray();
        var x = Enumerable.Range(0, 40).Select(_ => { var (a, b) = (3 * rng.Normal(), rng.Normal()); return Enumerable.Range(0, d).Select(i => 1 + a * u[i] + b * v[i]).ToImmutableArray(); }).ToArray();
        var pca = Pca.Fit(x, 2);
        var explained = pca.ExplainedFraction.Sum();
        // u lies in the span of the two components: its residual after projecting onto them is zero.
        var norm = Math.Sqrt(Dot(u, u));
        var residual = u.Select((ui, i) => ui - pca.Components.Sum(c => Dot(u, c) * c[i])).Sum(r => r * r);
        return (Math.Abs(explained - 1) < 1e-9 && Math.Sqrt(residual) < 1e-7 * norm).Label($"explained {explained}, residual {Math.Sqrt(residual)}");
    });

    [Fact]
    public void Axis_aligned_cross_has_the_analytic_variances()
    {
        // Points (±3, 0) and (0, ±1): mean 0, sample variances 18/3 = 6 along x and 2/3 along y.
        var pca = Pca.Fit([[3.0, 0.0], [-3.0, 0.0], [0.0, 1.0], [0.0, -1.0]]);
        Assert.Equal(6.0, pca.Variances[0], 12);
        Assert.Equal(2.0 / 3.0, pca.Variances[1], 12);
        Assert.Equal([1.0, 0.0], pca.Components[0].Select(c => Math.Round(c, 12)));
        Assert.Equal(0.9, pca.ExplainedFraction[0], 12);
    }

    [Fact]
    public void Bad_inputs_are_named()
    {
        Assert.Contains("at least 2 samples", Assert.Throws<ArgumentException>(() => Pca.Fit([[1.0]])).Message);
        Assert.Contains("sample 1 has 1 coordinates", Assert.Throws<ArgumentException>(() => Pca.Fit([[1.0, 2.0], [1.0]])).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Pca.Fit([[1.0, 2.0], [2.0, 1.0]], 3));
    }
}
