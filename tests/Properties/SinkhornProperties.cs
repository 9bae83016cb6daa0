using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using HmmRnn.Analysis.Numerics;
using HmmRnn.Core;

namespace HmmRnn.Properties;

public class SinkhornProperties
{
    private static Gen<(double[] X, double[] Y, int Dim)> Clouds { get; } =
        from dim in Gen.Choose(1, 4)
        from n in Gen.Choose(1, 8)
        from m in Gen.Choose(1, 8)
        from seed in Gen.Choose(0, int.MaxValue)
        select Make(dim, n, m, seed);

    private static (double[], double[], int) Make(int dim, int n, int m, int seed)
    {
        var x = new double[n * dim];
        var y = new double[m * dim];
        Rng.FromSeed(seed).FillNormal(x).FillNormal(y);
        return (x, y, dim);
    }

    [Property(MaxTest = 100)]
    public Property Divergence_of_a_cloud_with_itself_is_zero() => Prop.ForAll(Clouds.ToArbitrary(), c =>
    {
        var s = Sinkhorn.Compute(c.X, c.X, c.Dim).Divergence;
        return (Math.Abs(s) < 1e-9).Label($"S(x, x) = {s}");
    });

    [Property(MaxTest = 100)]
    public Property Divergence_is_non_negative_and_symmetric() => Prop.ForAll(Clouds.ToArbitrary(), c =>
    {
        var xy = Sinkhorn.Compute(c.X, c.Y, c.Dim).Divergence;
        var yx = Sinkhorn.Compute(c.Y, c.X, c.Dim).Divergence;
        return (xy >= -1e-9 && Math.Abs(xy - yx) < 1e-7 * Math.Max(1, xy)).Label($"S(x, y) = {xy}, S(y, x) = {yx}");
    });

    [Fact]
    public void Far_apart_single_points_cost_half_their_squared_distance()
    {
        // One point each: the plan is forced, OT_ε(x, y) = ½‖x − y‖² and OT_ε(x, x) = 0, so S = ½‖x − y‖²;
        // the matched distance is ‖x − y‖. (Analytic; the entropic terms vanish for Dirac masses.)
        var r = Sinkhorn.Compute([0.0, 0.0], [3.0, 4.0], 2);
        Assert.Equal(12.5, r.Divergence, 9);
        Assert.Equal(5.0, r.MatchedDistance, 9);
    }

    [Fact]
    public void Annealing_schedule_follows_geomloss()
    {
        // diameter 4, blur 0.2, scaling 0.5: ε = 16, then e^(2 log 4 + k·2 log 0.5) while above 0.04
        // (16, 4, 1, 0.25, 0.0625), then 0.04.
        var eps = SinkhornOptions.Paper.Epsilons(4);
        Assert.Equal(new[] { 16, 16, 4, 1, 0.25, 0.0625, 0.04 }, eps.Select(e => Math.Round(e, 10)));
    }

    // ---- Values from independent derivations (issue 10, item 5) ----

    /// <summary>
    /// Clouds of n points whose neighbours are ≥ 0.7 apart, in shuffled order: x_i = i + 0.3u_i and
    /// y_i = 0.5 + 1.7i + 0.3v_i. Any two matchings differ in cost by ≥ (x_i − x_j)(y_i − y_j) ≥ 0.7 · 1.4,
    /// which is ≫ ε = blur², so the entropic plans are permutations up to e^(−1/ε).
    /// </summary>
    private static (double[] X, double[] Y) SeparatedClouds(int n, int seed)
    {
        var rng = Rng.FromSeed(seed);
        var x = new double[n];
        var y = new double[n];
        for (int i = 0; i < n; i++)
        {
            (var u, rng) = rng.NextDouble();
            (var v, rng) = rng.NextDouble();
            x[i] = i + 0.3 * u;
            y[i] = 0.5 + 1.7 * i + 0.3 * v;
        }
        for (int i = n - 1; i > 0; i--) // Fisher–Yates, so that the input order is not the matching
        {
            (var j, rng) = rng.NextInt(i + 1);
            (x[i], x[j]) = (x[j], x[i]);
            (var k, rng) = rng.NextInt(i + 1);
            (y[i], y[k]) = (y[k], y[i]);
        }
        return (x, y);
    }

    /// <summary>½W₂² between equal-size 1-D clouds with uniform weights: the monotone (sorted) matching is optimal.</summary>
    private static double HalfW2Squared(double[] x, double[] y)
    {
        var xs = x.Order().ToArray();
        var ys = y.Order().ToArray();
        double s = 0;
        for (int i = 0; i < xs.Length; i++) s += 0.5 * (xs[i] - ys[i]) * (xs[i] - ys[i]);
        return s / xs.Length;
    }

    [Theory]
    [InlineData(8, 1, 0.02, 0.5)]
    [InlineData(16, 2, 0.02, 0.5)]
    [InlineData(32, 3, 0.01, 0.5)]
    [InlineData(32, 4, 0.02, 0.9)]
    public void Tiny_blur_on_separated_1D_clouds_gives_half_the_squared_W2_by_sorting(int n, int seed, double blur, double scaling)
    {
        // Reference: ½W₂² = ½(1/n)Σ(x_(i) − y_(i))², the sorted matching (1-D optimal transport with convex
        // cost is monotone). With every alternative matching ≥ 1 costlier than ε (≤ 4e-4), the entropic plans
        // of OT_ε(x, y), OT_ε(x, x), OT_ε(y, y) are permutations/n up to e^(−2500): each OT_ε carries the same
        // ε·KL = ε log n, which debiasing cancels, and the one-iteration-per-ε annealing has nothing left to
        // converge (observed |S − ½W₂²| ≤ 3e-14 even at the paper's scaling 0.5). Tolerance 1e-9: a missing
        // debiasing term leaves ε log n ≥ 8e-4, the cost ‖x − y‖ or ‖x − y‖² misses by O(1).
        var (x, y) = SeparatedClouds(n, seed);
        var s = Sinkhorn.Compute(x, y, 1, new SinkhornOptions(blur, scaling)).Divergence;
        Assert.Equal(HalfW2Squared(x, y), s, 1e-9);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Tiny_blur_on_gaussian_1D_clouds_approaches_half_the_squared_W2(int seed)
    {
        // Gaussian clouds (32 points each, x ~ N(0, 1), y ~ N(1, 0.25)) have near-ties, pairs of points closer
        // than the blur, where the annealing (one Sinkhorn iteration per ε) does not fully settle: at blur 0.02
        // and scaling 0.95 the observed |S − ½W₂²| is ≤ 2.5e-4 on these seeds (≤ 2e-3 at scaling 0.9, ≤ 6% at
        // the paper's 0.5). Tolerance 5e-4 against ½W₂² ≈ 0.4–1: the cost ‖x − y‖ or ‖x − y‖² (no ½) misses
        // by O(1); a dropped debiasing term adds ≈ ε log 32 = 1.4e-3.
        const int n = 32;
        var x = new double[n];
        var y = new double[n];
        Rng.FromSeed(seed).FillNormal(x).FillNormal(y);
        for (int i = 0; i < n; i++) y[i] = 1 + 0.5 * y[i];
        var s = Sinkhorn.Compute(x, y, 1, new SinkhornOptions(Blur: 0.02, Scaling: 0.95)).Divergence;
        Assert.Equal(HalfW2Squared(x, y), s, 5e-4);
    }

    /// <summary>
    /// OT_ε between two-point clouds {x1, x2} and {y1, y2} (1-D, weights ½), cost C_ij = ½(x_i − y_j)²,
    /// regularised by ε KL(P | a⊗b). Derivation: the marginals force P = [[p, q], [q, p]] with p + q = ½;
    /// the objective p(C11 + C22) + q(C12 + C21) + ε(2p log 4p + 2q log 4q) has derivative in p (q = ½ − p)
    /// C11 + C22 − C12 − C21 + 2ε log(p/q), zero at log(p/q) = (C12 + C21 − C11 − C22)/(2ε) = (x1 − x2)(y1 − y2)/(2ε);
    /// the objective is strictly convex, so that is the minimum. Returns the value and the plan's p, q.
    /// </summary>
    private static (double Value, double P, double Q, double[] C) TwoPointOt(double x1, double x2, double y1, double y2, double eps)
    {
        double[] c = [0.5 * (x1 - y1) * (x1 - y1), 0.5 * (x1 - y2) * (x1 - y2), 0.5 * (x2 - y1) * (x2 - y1), 0.5 * (x2 - y2) * (x2 - y2)];
        var r = (c[1] + c[2] - c[0] - c[3]) / (2 * eps);
        Assert.Equal((x1 - x2) * (y1 - y2) / (2 * eps), r, 1e-12); // the simplification above
        double p = 0.5 / (1 + Math.Exp(-r)), q = 0.5 / (1 + Math.Exp(r));
        var value = p * (c[0] + c[3]) + q * (c[1] + c[2]) + eps * (2 * p * Math.Log(4 * p) + 2 * q * Math.Log(4 * q));
        return (value, p, q, c);
    }

    [Theory]
    [InlineData(0.0, 1.0, 0.3, 1.6, 1.0)]
    [InlineData(0.0, 1.0, 0.3, 1.6, 0.5)]
    [InlineData(0.0, 1.0, 0.5, 0.7, 0.7)]
    [InlineData(1.0, 0.0, 0.3, 1.6, 0.3)]
    [InlineData(-1.0, 2.0, 0.4, -0.2, 0.6)]
    public void Two_point_clouds_match_the_closed_form_entropic_plan(double x1, double x2, double y1, double y2, double blur)
    {
        // S_ε = OT_ε(x, y) − ½OT_ε(x, x) − ½OT_ε(y, y), each in closed form (TwoPointOt). At blurs comparable
        // to the distances the debiasing terms are O(0.1), so dropping one is plain to see. Scaling 0.95 gives
        // 12–50 annealing steps and the iteration converges (observed |error| ≤ 1e-10); at the paper's scaling
        // 0.5 only 3–6 steps run and the error is up to 2e-5, which is why this test does not use it.
        var eps = blur * blur;
        var xy = TwoPointOt(x1, x2, y1, y2, eps);
        var expected = xy.Value - 0.5 * TwoPointOt(x1, x2, x1, x2, eps).Value - 0.5 * TwoPointOt(y1, y2, y1, y2, eps).Value;
        // Matched distance Σ π_ij |x_i − y_j| under the same plan: p on (11, 22), q on (12, 21).
        var matched = xy.P * (Math.Sqrt(2 * xy.C[0]) + Math.Sqrt(2 * xy.C[3])) + xy.Q * (Math.Sqrt(2 * xy.C[1]) + Math.Sqrt(2 * xy.C[2]));
        var r = Sinkhorn.Compute([x1, x2], [y1, y2], 1, new SinkhornOptions(blur, Scaling: 0.95));
        Assert.Equal(expected, r.Divergence, 1e-9);
        // The plan is first order in the potentials' residual where the dual value is second order, so it is
        // looser (observed ≤ 8e-6); a wrong plan, e.g. the independent coupling p = q = ¼, misses by ≥ 0.01.
        Assert.Equal(matched, r.MatchedDistance, 5e-5);
    }

    [Theory]
    [InlineData(1, 5, 0.2, 0.5)]
    [InlineData(2, 12, 0.5, 0.9)]
    [InlineData(3, 3, 0.1, 0.5)]
    public void Translating_a_cloud_costs_half_the_squared_shift_at_any_blur(int dim, int n, double blur, double scaling)
    {
        // For y = x + t: ½‖x_i − x_j − t‖² = ½‖x_i − x_j‖² − ⟨x_i − x_j, t⟩ + ½‖t‖², and Σ_ij P_ij ⟨x_i − x_j, t⟩ = 0
        // under equal marginals, so OT_ε(x, x + t) = OT_ε(x, x) + ½‖t‖² with the same plan, and OT_ε(x + t, x + t) =
        // OT_ε(x, x): S_ε = ½‖t‖² exactly, for every ε (the entropic terms cancel by debiasing).
        var x = new double[n * dim];
        var t = new double[dim];
        Rng.FromSeed(dim * 100 + n).FillNormal(x).FillNormal(t);
        var y = x.Select((v, i) => v + t[i % dim]).ToArray();
        var s = Sinkhorn.Compute(x, y, dim, new SinkhornOptions(blur, scaling)).Divergence;
        Assert.Equal(0.5 * t.Sum(v => v * v), s, 1e-6);
    }
}
