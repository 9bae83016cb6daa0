using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using HmmRnn.Analysis.Dynamics;
using HmmRnn.Core;
using HmmRnn.Core.Rnn;
using HmmRnn.Testing;

namespace HmmRnn.Properties;

/// <summary>Helpers written out for the dynamics tests, sharing nothing with the code under test.</summary>
internal static class DynamicsOracle
{
    /// <summary>Orthonormal vectors by Gram–Schmidt (twice, for accuracy) on Gaussian draws.</summary>
    public static double[][] OrthonormalBasis(int n, RngStream rng)
    {
        var q = new double[n][];
        for (int k = 0; k < n; k++)
        {
            var v = Enumerable.Range(0, n).Select(_ => rng.Normal()).ToArray();
            for (int pass = 0; pass < 2; pass++)
                for (int m = 0; m < k; m++)
                {
                    var d = v.Zip(q[m], (a, b) => a * b).Sum();
                    for (int i = 0; i < n; i++) v[i] -= d * q[m][i];
                }
            var norm = Math.Sqrt(v.Sum(x => x * x));
            q[k] = [.. v.Select(x => x / norm)];
        }
        return q;
    }

    /// <summary>tanh(W h + U o + b) − h from the weight arrays.</summary>
    public static double[] Residual(TanhRnnWeights w, double[] o, double[] h) =>
        [.. Enumerable.Range(0, w.Hidden).Select(i => Math.Tanh(
            Enumerable.Range(0, w.Hidden).Sum(j => w.Recurrent[i * w.Hidden + j] * h[j])
            + Enumerable.Range(0, w.Inputs).Sum(k => w.InputWeights[i * w.Inputs + k] * o[k]) + w.Bias[i]) - h[i])];

    public static double Q(TanhRnnWeights w, double[] o, double[] h) => 0.5 * Residual(w, o, h).Sum(r => r * r);

    /// <summary>Every root of f on [lo, hi]: sign changes on a fine scan, then bisection to the last bit.</summary>
    public static List<double> Roots(Func<double, double> f, double lo, double hi, int scan = 20_000)
    {
        var roots = new List<double>();
        double step = (hi - lo) / scan, a = lo, fa = f(a);
        for (int k = 1; k <= scan; k++)
        {
            double b = lo + k * step, fb = f(b);
            if (fa == 0) roots.Add(a);
            else if (fa * fb < 0)
            {
                double x = a, y = b, fx = fa;
                for (int it = 0; it < 200 && y - x > 1e-16; it++)
                {
                    var m = 0.5 * (x + y);
                    var fm = f(m);
                    if (fm == 0) { x = y = m; break; }
                    if (fx * fm < 0) y = m; else { x = m; fx = fm; }
                }
                roots.Add(0.5 * (x + y));
            }
            (a, fa) = (b, fb);
        }
        return roots;
    }

    /// <summary>A network h ↦ tanh(W h + b) with no input (one input of weight zero) and a zero readout.</summary>
    public static TanhRnnWeights Autonomous(int n, double[] w, double[] b) =>
        new(n, 1, 1, [.. w], [.. new double[n]], [.. b], [.. new double[n]], [0.0]);

    /// <summary>
    /// For h ↦ tanh(w h + b): the extrema of r(h) = tanh(w h + b) − h sit where w (1 − tanh²) = 1, i.e. (for w &gt; 1)
    /// w h + b = ±artanh(√(1 − 1/w)); returns (h, r(h)) at each.
    /// </summary>
    public static (double H, double R)[] Extrema(double w, double b)
    {
        if (w <= 1) return [];
        var a = Math.Atanh(Math.Sqrt(1 - 1 / w));
        return [.. new[] { a, -a }.Select(x => ((x - b) / w, Math.Tanh(x) - (x - b) / w))];
    }
}

/// <summary>Flow fields against linear maps with an invariant plane, and the mask against counting by hand.</summary>
public class FlowFieldProperties
{
    private static Gen<(int H, int Seed)> Shapes { get; } =
        from h in Gen.Choose(2, 6)
        from seed in Gen.Choose(0, int.MaxValue)
        select (h, seed);

    [Property(MaxTest = 200)]
    public Property A_linear_map_with_an_invariant_plane_flows_as_A_minus_I() => Prop.ForAll(Shapes.ToArbitrary(), s =>
    {
        // M = Q T Qᵀ with T = [[A, B], [0, C]] keeps span(q₁, q₂) invariant: M (u₁ q₁ + u₂ q₂) = (A u)₁ q₁ + (A u)₂ q₂.
        // From the origin c₁ q₁ + c₂ q₂, the node z moves by (A − I)(c + z) in plane coordinates, and not out of the plane.
        var (n, seed) = s;
        var rng = new RngStream(Rng.FromSeed(seed));
        var q = DynamicsOracle.OrthonormalBasis(n, rng);
        var t = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) t[i, j] = i >= 2 && j < 2 ? 0 : rng.Normal();
        var m = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                for (int a = 0; a < n; a++)
                    for (int b = 0; b < n; b++) m[i, j] += q[a][i] * t[a, b] * q[b][j];
        double c1 = rng.Normal(), c2 = rng.Normal();
        var plane = new StatePlane([.. Enumerable.Range(0, n).Select(i => c1 * q[0][i] + c2 * q[1][i])], [.. q[0]], [.. q[1]]);
        var along1 = new GridAxis(-2, 2, 5);
        var along2 = new GridAxis(-1, 2, 4);
        var field = FlowField.Compute(h => [.. Enumerable.Range(0, n).Select(i => Enumerable.Range(0, n).Sum(j => m[i, j] * h[j]))], plane, along1, along2);
        double worst = 0;
        for (int j = 0; j < 4; j++)
            for (int i = 0; i < 5; i++)
            {
                double u1 = c1 + (-2 + i), u2 = c2 + (-1 + j);
                double e1 = (t[0, 0] - 1) * u1 + t[0, 1] * u2, e2 = t[1, 0] * u1 + (t[1, 1] - 1) * u2;
                int at = j * 5 + i;
                worst = new[] { worst, Math.Abs(field.Displacement1[at] - e1), Math.Abs(field.Displacement2[at] - e2),
                    Math.Abs(field.Speed[at] - Math.Sqrt(e1 * e1 + e2 * e2)), Math.Abs(field.FullSpeed[at] - field.Speed[at]) }.Max();
            }
        return (worst < 1e-10 && field.Mask.All(k => k)).Label($"largest difference {worst}");
    });

    [Property(MaxTest = 200)]
    public Property The_mask_keeps_exactly_the_cells_holding_enough_points() =>
        Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), Gen.Choose(1, 3).ToArbitrary(), (seed, minVisits) =>
        {
            var rng = new RngStream(Rng.FromSeed(seed));
            var along1 = new GridAxis(-1 - rng.Uniform(), 1 + rng.Uniform(), 3 + (int)(rng.Uniform() * 6));
            var along2 = new GridAxis(-0.5 - rng.Uniform(), 2 + rng.Uniform(), 3 + (int)(rng.Uniform() * 6));
            var plane = new StatePlane([0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]);
            var field = FlowField.Compute(h => h, plane, along1, along2);
            // Points clumped at random spots (so cells get several), some outside the grid.
            var points = new List<PlanePoint>();
            for (int k = 0; k < 6; k++)
            {
                double x = -3 + 6 * rng.Uniform(), y = -3 + 6 * rng.Uniform();
                var copies = 1 + (int)(rng.Uniform() * 4);
                for (int c = 0; c < copies; c++) points.Add(new PlanePoint(x + 0.05 * rng.Normal(), y + 0.05 * rng.Normal()));
            }
            var masked = FlowField.MaskVisited(field, points, minVisits);
            int n1 = along1.Count, wrong = 0;
            double s1 = (along1.Max - along1.Min) / (along1.Count - 1), s2 = (along2.Max - along2.Min) / (along2.Count - 1);
            for (int j = 0; j < along2.Count; j++)
                for (int i = 0; i < n1; i++)
                {
                    double x = along1.Min + i * s1, y = along2.Min + j * s2;
                    var count = points.Count(p => Math.Abs(p.Z1 - x) < s1 / 2 && Math.Abs(p.Z2 - y) < s2 / 2);
                    if (masked.Mask[j * n1 + i] != count >= minVisits) wrong++;
                }
            return (wrong == 0 && masked.Displacement1 == field.Displacement1).Label($"{wrong} cells masked wrongly");
        });

    [Property(MaxTest = 100)]
    public Property A_tanh_RNN_field_is_its_step_minus_the_state_projected() =>
        Prop.ForAll(RnnGen.Tanh(maxHidden: 5, gain: 1.5).Where(w => w.Hidden >= 2).ToArbitrary(), Gen.Choose(0, int.MaxValue).ToArbitrary(), (w, seed) =>
        {
            var rng = new RngStream(Rng.FromSeed(seed));
            var q = DynamicsOracle.OrthonormalBasis(w.Hidden, rng);
            var origin = Enumerable.Range(0, w.Hidden).Select(_ => 0.3 * rng.Normal()).ToArray();
            var o = Enumerable.Range(0, w.Inputs).Select(_ => rng.Normal()).ToArray();
            var plane = new StatePlane([.. origin], [.. q[0]], [.. q[1]]);
            var along = new GridAxis(-1, 1, 3);
            var field = FlowField.Compute(w, o, plane, along, along);
            double worst = 0;
            for (int j = 0; j < 3; j++)
                for (int i = 0; i < 3; i++)
                {
                    var h = origin.Select((v, k) => v + (i - 1) * q[0][k] + (j - 1) * q[1][k]).ToArray();
                    var r = DynamicsOracle.Residual(w, o, h);
                    worst = Math.Max(worst, Math.Abs(field.Displacement1[j * 3 + i] - r.Zip(q[0], (a, b) => a * b).Sum()));
                    worst = Math.Max(worst, Math.Abs(field.Displacement2[j * 3 + i] - r.Zip(q[1], (a, b) => a * b).Sum()));
                    worst = Math.Max(worst, Math.Abs(field.FullSpeed[j * 3 + i] - Math.Sqrt(r.Sum(v => v * v))));
                }
            return (worst < 1e-12).Label($"largest difference {worst}");
        });
}

/// <summary>Fixed and slow points of tanh RNNs whose answers are known independently (bisection, closed forms).</summary>
public class FixedPointProperties
{
    private static readonly double[] NoInput = [0.0];

    [Fact]
    public void A_bistable_unit_has_three_fixed_points_classified()
    {
        // h = tanh(2h): 0 (λ = 2, unstable) and ±h* with h* = tanh(2h*) (λ = 2(1 − h*²), stable).
        var hStar = DynamicsOracle.Roots(h => Math.Tanh(2 * h) - h, 0.5, 1.5).Single();
        var net = DynamicsOracle.Autonomous(1, [2.0], [0.0]);
        var starts = Enumerable.Range(0, 41).Select(k => new[] { -2 + 0.1 * k }).ToArray();
        var found = TanhFixedPoints.Find(net, NoInput, starts);
        Assert.Empty(found.Slow);
        var points = found.Fixed.OrderBy(p => p.State[0]).ToArray();
        Assert.Equal(3, points.Length);
        Assert.Equal(-hStar, points[0].State[0], 12);
        Assert.Equal(0, points[1].State[0], 12);
        Assert.Equal(hStar, points[2].State[0], 12);
        Assert.Equal(2, points[1].Eigenvalues.Single().Real, 10);
        Assert.Equal(Stability.Unstable, points[1].Stability);
        foreach (var p in new[] { points[0], points[2] })
        {
            Assert.Equal(2 * (1 - hStar * hStar), p.Eigenvalues.Single().Real, 10);
            Assert.Equal(Stability.Stable, p.Stability);
        }
        Assert.Equal(41, found.Points.Sum(p => p.Starts) + found.Dropped);
    }

    /// <summary>W = [[w₁, 0], [k, w₂]], b: unit 1 alone, unit 2 driven by unit 1; no 1-D problem near a tangency.</summary>
    public sealed record Triangular(double W1, double B1, double K, double W2, double B2)
    {
        /// <summary>The network h ↦ tanh(W h + b).</summary>
        public TanhRnnWeights Net => DynamicsOracle.Autonomous(2, [W1, 0, K, W2], [B1, B2]);

        /// <summary>Nested bisection: roots h₁ of unit 1, then for each the roots h₂ of unit 2; eigenvalues on the diagonal.</summary>
        public List<(double H1, double H2, double L1, double L2)> Expected() =>
            [.. DynamicsOracle.Roots(h => Math.Tanh(W1 * h + B1) - h, -1, 1).SelectMany(h1 =>
                DynamicsOracle.Roots(h => Math.Tanh(W2 * h + K * h1 + B2) - h, -1, 1).Select(h2 => (h1, h2, W1 * (1 - h1 * h1), W2 * (1 - h2 * h2))))];

        /// <summary>Every 1-D residual's extrema lie at least 0.02 from zero (no fixed point about to appear or vanish).</summary>
        public bool FarFromTangency() =>
            DynamicsOracle.Extrema(W1, B1).All(e => Math.Abs(e.R) > 0.02)
            && DynamicsOracle.Roots(h => Math.Tanh(W1 * h + B1) - h, -1, 1).All(h1 => DynamicsOracle.Extrema(W2, K * h1 + B2).All(e => Math.Abs(e.R) > 0.02));
    }

    private static Gen<double> Between(double lo, double hi) => Gen.Choose(0, 1000).Select(k => lo + (hi - lo) * k / 1000);

    private static Gen<Triangular> Triangulars { get; } =
        (from w1 in Between(0.3, 4) from b1 in Between(-1, 1) from k in Between(-2, 2) from w2 in Between(0.3, 4) from b2 in Between(-1, 1)
         select new Triangular(w1, b1, k, w2, b2)).Where(t => t.FarFromTangency());

    [Property(MaxTest = 100)]
    public Property A_triangular_pair_has_the_fixed_points_nested_bisection_finds() => Prop.ForAll(Triangulars.ToArbitrary(), t =>
    {
        var starts = Enumerable.Range(0, 21).SelectMany(i => Enumerable.Range(0, 21).Select(j => new[] { -1.1 + 0.11 * i, -1.1 + 0.11 * j })).ToArray();
        var found = TanhFixedPoints.Find(t.Net, NoInput, starts).Fixed;
        var expected = t.Expected();
        if (found.Length != expected.Count) return false.Label($"found {found.Length} fixed points, bisection {expected.Count}: [{string.Join("; ", found.Select(p => $"({p.State[0]}, {p.State[1]})"))}]");
        foreach (var e in expected)
        {
            var p = found.MinBy(p => Math.Abs(p.State[0] - e.H1) + Math.Abs(p.State[1] - e.H2))!;
            var lambdas = new[] { e.L1, e.L2 }.OrderByDescending(Math.Abs).ToArray();
            var stability = lambdas.Max(Math.Abs) < 1 - 1e-3 ? Stability.Stable : lambdas.Max(Math.Abs) > 1 + 1e-3 ? Stability.Unstable : Stability.Marginal;
            var err = Math.Max(Math.Abs(p.State[0] - e.H1), Math.Abs(p.State[1] - e.H2));
            var eigErr = p.Eigenvalues.Select(v => v.Real).OrderByDescending(Math.Abs).Zip(lambdas, (a, b) => Math.Abs(a - b)).Max();
            if (err > 1e-9 || eigErr > 1e-9 || p.Eigenvalues.Any(v => v.Imaginary != 0) || p.Stability != stability)
                return false.Label($"at ({e.H1}, {e.H2}): found ({p.State[0]}, {p.State[1]}), eigenvalues [{string.Join(", ", p.Eigenvalues)}] vs [{string.Join(", ", lambdas)}], {p.Stability} vs {stability}");
        }
        return true.ToProperty();
    });

    [Property(MaxTest = 100)]
    public Property Every_reported_point_is_what_it_claims() =>
        Prop.ForAll(RnnGen.Tanh(maxHidden: 4, gain: 2.5).ToArbitrary(), Gen.Choose(0, int.MaxValue).ToArbitrary(), (w, seed) =>
        {
            // Substitution: fixed points have ‖F(h) − h‖ ≤ √(2 · 1e-14); slow points are no higher than their
            // neighbours at ±1e-4 along every axis and have q ≤ 1e-6; the reported q is ½‖F(h) − h‖²; Σλ = tr J and
            // Πλ = det J with J = diag(1 − tanh²) W written out; distinct points are ≥ 1e-6 apart.
            var rng = new RngStream(Rng.FromSeed(seed));
            var o = Enumerable.Range(0, w.Inputs).Select(_ => 0.5 * rng.Normal()).ToArray();
            var starts = Enumerable.Range(0, 30).Select(_ => Enumerable.Range(0, w.Hidden).Select(_ => 2 * rng.Uniform() - 1).ToArray()).ToArray();
            var found = TanhFixedPoints.Find(w, o, starts);
            int n = w.Hidden;
            foreach (var p in found.Points)
            {
                var h = p.State.ToArray();
                var q = DynamicsOracle.Q(w, o, h);
                if (Math.Abs(q - p.Q) > 1e-15 + 1e-9 * q) return false.Label($"q reported {p.Q}, recomputed {q}");
                if (p.Kind == FixedPointKind.Fixed && Math.Sqrt(2 * q) > Math.Sqrt(2e-14)) return false.Label($"fixed point with ‖F(h) − h‖ = {Math.Sqrt(2 * q)}");
                if (p.Kind == FixedPointKind.Slow)
                {
                    if (q > 1e-6) return false.Label($"slow point with q = {q}");
                    for (int k = 0; k < n; k++)
                        foreach (var e in new[] { 1e-4, -1e-4 })
                        {
                            var nb = (double[])h.Clone();
                            nb[k] += e;
                            if (DynamicsOracle.Q(w, o, nb) < q - 1e-18) return false.Label($"slow point at q = {q} is not a minimum along axis {k}");
                        }
                }
                var j = new double[n, n];
                for (int a = 0; a < n; a++)
                {
                    var pre = Enumerable.Range(0, n).Sum(b => w.Recurrent[a * n + b] * h[b]) + Enumerable.Range(0, w.Inputs).Sum(k => w.InputWeights[a * w.Inputs + k] * o[k]) + w.Bias[a];
                    for (int b = 0; b < n; b++) j[a, b] = (1 - Math.Tanh(pre) * Math.Tanh(pre)) * w.Recurrent[a * n + b];
                }
                var trace = Enumerable.Range(0, n).Sum(a => j[a, a]);
                var sum = p.Eigenvalues.Aggregate(System.Numerics.Complex.Zero, (x, y) => x + y);
                var product = p.Eigenvalues.Aggregate(System.Numerics.Complex.One, (x, y) => x * y);
                var det = Determinant(j, n);
                if ((sum - trace).Magnitude > 1e-9 || (product - det).Magnitude > 1e-9) return false.Label($"Σλ = {sum} vs tr {trace}; Πλ = {product} vs det {det}");
                var radius = p.Eigenvalues.Max(v => v.Magnitude);
                var stability = radius < 1 - 1e-3 ? Stability.Stable : radius > 1 + 1e-3 ? Stability.Unstable : Stability.Marginal;
                if (p.Stability != stability) return false.Label($"labelled {p.Stability} with spectral radius {radius}");
            }
            var pts = found.Points;
            for (int a = 0; a < pts.Length; a++)
                for (int b = 0; b < a; b++)
                    if (Math.Sqrt(pts[a].State.Zip(pts[b].State, (x, y) => (x - y) * (x - y)).Sum()) < 1e-6) return false.Label("two points closer than the distinct distance");
            return (found.Points.Sum(p => p.Starts) + found.Dropped == 30).Label("starts not accounted for");
        });

    /// <summary>det by the Leibniz formula over permutations (n ≤ 4 here).</summary>
    private static double Determinant(double[,] m, int n)
    {
        double det = 0;
        foreach (var perm in Permutations(Enumerable.Range(0, n).ToArray()))
        {
            int inversions = 0;
            for (int a = 0; a < n; a++)
                for (int b = a + 1; b < n; b++) if (perm[a] > perm[b]) inversions++;
            double term = inversions % 2 == 0 ? 1 : -1;
            for (int a = 0; a < n; a++) term *= m[a, perm[a]];
            det += term;
        }
        return det;
    }

    private static IEnumerable<int[]> Permutations(int[] items) => items.Length <= 1 ? [items]
        : items.SelectMany((x, i) => Permutations([.. items.Take(i), .. items.Skip(i + 1)]).Select(rest => (int[])[x, .. rest]));

    [Fact]
    public void A_local_maximum_of_q_is_not_a_slow_point()
    {
        // Just before the saddle-node (b = b_c + 2e-4) r₁ = tanh(1.5 h + b) − h has a small positive local maximum
        // between two nearby roots: there ∇q = r r' = 0 and q is small, but q has a maximum, not a minimum.
        // A start placed exactly there stops at once; it must be dropped, not reported as a slow point.
        const double w = 1.5;
        var a = Math.Atanh(Math.Sqrt(1 - 1 / w));
        var b = a - w * Math.Sqrt(1 - 1 / w) + 2e-4;
        var top = (a - b) / w;
        var net = DynamicsOracle.Autonomous(1, [w], [b]);
        var found = TanhFixedPoints.Find(net, NoInput, [[top]]);
        Assert.Empty(found.Points);
        Assert.Equal(1, found.Dropped);
    }

    [Fact]
    public void A_saddle_node_ghost_is_a_slow_point_with_eigenvalue_one()
    {
        // Unit 1, h₁ ↦ tanh(1.5 h₁ + b), just past the saddle-node at b_c = artanh(√(1/3)) − 1.5 √(1/3): its two
        // upper fixed points have merged and vanished, leaving a "ghost" where r₁ = tanh(1.5 h₁ + b) − h₁ has a
        // local maximum below zero. There q has a positive local minimum, with the Jacobian's eigenvalue along
        // h₁ exactly 1: w (1 − tanh²) = 1 is what makes r₁' vanish. Unit 2 (gain 0.4 < 1) follows unit 1.
        const double w = 1.5, k = 0.8, w2 = 0.4, b2 = 0.1;
        var a = Math.Atanh(Math.Sqrt(1 - 1 / w));
        var bc = a - w * Math.Sqrt(1 - 1 / w);
        var b = bc - 2e-4;
        var h1 = (a - b) / w;                                   // the ghost's h₁, in closed form
        var r1 = Math.Tanh(a) - h1;                             // −2e-4 / 1.5
        var h2 = DynamicsOracle.Roots(h => Math.Tanh(w2 * h + k * h1 + b2) - h, -1, 1).Single();
        var net = DynamicsOracle.Autonomous(2, [w, 0, k, w2], [b, b2]);
        var starts = Enumerable.Range(0, 21).SelectMany(i => Enumerable.Range(0, 5).Select(j => new[] { -1.2 + 0.12 * i, -1 + 0.5 * j })).ToArray();

        var found = TanhFixedPoints.Find(net, NoInput, starts);

        var slow = Assert.Single(found.Slow);
        Assert.Equal(h1, slow.State[0], 9);
        Assert.Equal(h2, slow.State[1], 9);
        Assert.Equal(0.5 * r1 * r1, slow.Q, 15);
        Assert.Equal(1.0, slow.Eigenvalues[0].Real, 8);
        Assert.Equal(w2 * (1 - h2 * h2), slow.Eigenvalues[1].Real, 8);
        Assert.Equal(Stability.Marginal, slow.Stability);
        // The lower branch is a true, stable fixed point.
        var fixedPoint = Assert.Single(found.Fixed);
        var lower = DynamicsOracle.Roots(h => Math.Tanh(w * h + b) - h, -1, 1).Single();
        Assert.Equal(lower, fixedPoint.State[0], 10);
        Assert.Equal(Stability.Stable, fixedPoint.Stability);
    }
}
