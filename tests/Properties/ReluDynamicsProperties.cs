using System.Collections.Immutable;
using Complex = System.Numerics.Complex;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using HmmRnn.Analysis.Dynamics;
using HmmRnn.Core;
using HmmRnn.Core.Rnn;

namespace HmmRnn.Properties;

/// <summary>Fixtures for the ReLU dynamics tests, written out here and sharing nothing with the code under test.</summary>
internal static class ReluOracle
{
    /// <summary>A network with the given recurrent weights (H × H row-major), input weights (H × D) and readout (O × H).</summary>
    public static ReluRnnWeights Net(int hidden, double[] recurrent, int input = 1, double[]? inputWeights = null, int outputs = 1, double[]? readout = null) =>
        new(hidden, input, outputs, [.. (inputWeights ?? new double[hidden * input]).Select(v => (float)v)],
            [.. recurrent.Select(v => (float)v)], [.. (readout ?? new double[outputs * hidden]).Select(v => (float)v)]);

    /// <summary>ReLU(W h) written out from the weight array.</summary>
    public static double[] Map(ReluRnnWeights w, IReadOnlyList<double> h) =>
        [.. Enumerable.Range(0, w.Hidden).Select(i => Math.Max(0, Enumerable.Range(0, w.Hidden).Sum(j => (double)w.RecurrentWeights[i * w.Hidden + j] * h[j])))];

    /// <summary>Every pattern of H units but the empty one.</summary>
    public static ImmutableArray<bool>[] AllPatterns(int hidden) =>
        [.. Enumerable.Range(1, (1 << hidden) - 1).Select(m => Enumerable.Range(0, hidden).Select(i => (m >> i & 1) == 1).ToImmutableArray())];

    /// <summary>
    /// A small net with a planted fixed ray on pattern S: W_SS = v cᵀ + E with cᵀ v = 1 and E v = 0, so W_SS v = v.
    /// Every weight is a multiple of 1/32 of modest size, so float32 and double hold it, and W_SS v = v, exactly.
    /// The inactive units' rows are random: the planted ray is consistent only when they are driven ≤ 0.
    /// </summary>
    public sealed record Planted(ReluRnnWeights W, bool[] S, double[] V)
    {
        /// <summary>(W v)_i for the units off S.</summary>
        public double[] InactiveDrives =>
            [.. Enumerable.Range(0, W.Hidden).Where(i => !S[i]).Select(i => Enumerable.Range(0, W.Hidden).Sum(j => (double)W.RecurrentWeights[i * W.Hidden + j] * V[j]))];
    }

    public static Planted Plant(int seed)
    {
        var rng = new RngStream(Rng.FromSeed(seed));
        int Pick(int lo, int hi) => lo + (int)(rng.Uniform() * (hi - lo + 1));
        int n = Pick(2, 5);
        var s = Enumerable.Range(0, n).Select(_ => rng.Uniform() < 0.6).ToArray();
        if (!s.Any(a => a)) s[Pick(0, n - 1)] = true;
        var active = Enumerable.Range(0, n).Where(i => s[i]).ToArray();
        int star = active[0];
        var v = new double[n];
        foreach (var i in active) v[i] = i == star ? 1 : Pick(1, 4);
        var w = new double[n * n];
        for (int k = 0; k < w.Length; k++) w[k] = Pick(-8, 8) / 8.0;
        var c = new double[n];
        foreach (var j in active) if (j != star) c[j] = Pick(-4, 4) / 8.0;
        c[star] = 1 - active.Where(j => j != star).Sum(j => c[j] * v[j]);
        foreach (var i in active)
        {
            var e = new double[n];
            foreach (var j in active) if (j != star) e[j] = Pick(-2, 2) / 32.0;
            e[star] = -active.Where(j => j != star).Sum(j => e[j] * v[j]);
            foreach (var j in active) w[i * n + j] = v[i] * c[j] + e[j];
        }
        return new Planted(Net(n, w), s, v);
    }

    public static double[] Unit(IReadOnlyList<double> v)
    {
        var norm = Math.Sqrt(v.Sum(x => x * x));
        return [.. v.Select(x => x / norm)];
    }

    public static double MaxDiff(IEnumerable<double> a, IEnumerable<double> b) => a.Zip(b, (x, y) => Math.Abs(x - y)).DefaultIfEmpty(0).Max();
}

/// <summary>Exact fixed rays of ReLU(W h) against substitution, planted rays, hand-built nets and iteration.</summary>
public class ReluFixedPointProperties
{
    [Property(MaxTest = 300)]
    public Property Every_fixed_ray_satisfies_the_fixed_point_equation_and_the_planted_one_is_judged_right() =>
        Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), seed =>
        {
            var p = ReluOracle.Plant(seed);
            var results = ReluFixedPoints.Exact(p.W, ReluOracle.AllPatterns(p.W.Hidden));
            foreach (var r in results.Where(r => r.Verdict == ReluRayVerdict.FixedRay))
            {
                var v = r.Direction;
                var err = ReluOracle.MaxDiff(ReluOracle.Map(p.W, v), v);
                var patternOk = Enumerable.Range(0, v.Length).All(i => r.Pattern[i] == v[i] > 0);
                if (err > 1e-9 || !patternOk || Math.Abs(Math.Sqrt(v.Sum(x => x * x)) - 1) > 1e-12)
                    return false.Label($"pattern [{string.Join("", r.Pattern.Select(b => b ? 1 : 0))}]: ReLU(W v) − v = {err}, v = [{string.Join(", ", v)}]");
            }
            // The planted pattern: with a 1-D null space the verdict is exactly the oracle's, and the direction is v / ‖v‖.
            var planted = results.Single(r => r.Pattern.SequenceEqual(p.S));
            if (planted.NullSpaceDimension == 1)
            {
                var consistent = p.InactiveDrives.All(d => d <= 0);
                if (planted.Verdict != (consistent ? ReluRayVerdict.FixedRay : ReluRayVerdict.InactiveDriven))
                    return false.Label($"planted pattern judged {planted.Verdict}, inactive drives [{string.Join(", ", p.InactiveDrives)}]");
                if (consistent && ReluOracle.MaxDiff(planted.Direction, ReluOracle.Unit(p.V)) > 1e-9)
                    return false.Label($"direction [{string.Join(", ", planted.Direction)}], planted [{string.Join(", ", p.V)}]");
            }
            return (planted.NullSpaceDimension >= 1).Label($"planted null space of dimension {planted.NullSpaceDimension}");
        });

    [Fact]
    public void A_constructed_stable_ray_is_found_with_its_direction()
    {
        // W_SS = [[½, ½], [½, ½]] on S = {0, 1}: eigenvalues 1 (along (1, 1)) and 0; unit 2 is driven by −h₀ − h₁ < 0.
        var w = ReluOracle.Net(3, [0.5, 0.5, 0, 0.5, 0.5, 0, -1, -1, 0.3]);
        var r = ReluFixedPoints.Exact(w, [[true, true, false]]).Single();
        Assert.Equal(ReluRayVerdict.FixedRay, r.Verdict);
        Assert.Equal(1, r.NullSpaceDimension);
        Assert.Equal(1 / Math.Sqrt(2), r.Direction[0], 12);
        Assert.Equal(1 / Math.Sqrt(2), r.Direction[1], 12);
        Assert.Equal(0, r.Direction[2]);
        Assert.True(r.Residual < 1e-12);
        // D_S W = [[½, ½, 0], [½, ½, 0], [0, 0, 0]]: eigenvalues 1, 0, 0; the ray's 1 set aside, the rest contract.
        Assert.Equal(1, r.SpectralRadius, 12);
        Assert.Equal(Stability.Stable, r.Stability);
    }

    [Fact]
    public void A_constructed_ray_with_an_unstable_direction_is_unstable()
    {
        // W_SS = [[3/2, −½], [−½, 3/2]]: eigenvalue 1 along (1, 1), 2 along (1, −1).
        var w = ReluOracle.Net(3, [1.5, -0.5, 0, -0.5, 1.5, 0, -1, -1, 0]);
        var r = ReluFixedPoints.Exact(w, [[true, true, false]]).Single();
        Assert.Equal(ReluRayVerdict.FixedRay, r.Verdict);
        Assert.Equal(1 / Math.Sqrt(2), r.Direction[0], 12);
        Assert.Equal(2, r.SpectralRadius, 12);
        Assert.Equal(Stability.Unstable, r.Stability);
    }

    [Fact]
    public void Candidates_outside_the_cone_are_rejected()
    {
        // The positive null vector (1, 1) of W_SS − I drives unit 2 by (1 − ½)/√2 > 0: not a fixed point.
        var driven = ReluOracle.Net(3, [0.5, 0.5, 0, 0.5, 0.5, 0, 1, -0.5, 0]);
        var r = ReluFixedPoints.Exact(driven, [[true, true, false]]).Single();
        Assert.Equal(ReluRayVerdict.InactiveDriven, r.Verdict);
        Assert.True(r.Direction.IsEmpty);
        Assert.Null(r.Stability);
        // W_SS = [[½, −½], [−½, ½]]: the null vector (1, −1) is not positive.
        var mixed = ReluOracle.Net(2, [0.5, -0.5, -0.5, 0.5]);
        Assert.Equal(ReluRayVerdict.NotPositive, ReluFixedPoints.Exact(mixed, [[true, true]]).Single().Verdict);
        // W_SS = 0.9: no null space at all.
        Assert.Equal(ReluRayVerdict.NoNullSpace, ReluFixedPoints.Exact(ReluOracle.Net(1, [0.9]), [[true]]).Single().Verdict);
    }

    [Fact]
    public void Higher_dimensional_null_spaces_are_decided_only_by_a_witness()
    {
        // W_SS = I on S = {0, 1}: a 2-D null space. Unit 2 driven by −h₀ − h₁: the witness (1, 1) is feasible.
        var quiet = ReluFixedPoints.Exact(ReluOracle.Net(3, [1, 0, 0, 0, 1, 0, -1, -1, 0]), [[true, true, false]]).Single();
        Assert.Equal(2, quiet.NullSpaceDimension);
        Assert.Equal(ReluRayVerdict.FixedRay, quiet.Verdict);
        Assert.True(ReluOracle.MaxDiff(ReluOracle.Map(ReluOracle.Net(3, [1, 0, 0, 0, 1, 0, -1, -1, 0]), quiet.Direction), quiet.Direction) < 1e-12);
        // Driven by h₀ − ½ h₁: (1, 1) fails, yet (1, 3) is feasible; the answer must be "undecided", never "infeasible".
        var hard = ReluFixedPoints.Exact(ReluOracle.Net(3, [1, 0, 0, 0, 1, 0, 1, -0.5, 0]), [[true, true, false]]).Single();
        Assert.Equal(2, hard.NullSpaceDimension);
        Assert.Equal(ReluRayVerdict.Undecided, hard.Verdict);
    }

    [Property(MaxTest = 300)]
    public Property Where_iteration_converges_to_a_nonzero_point_that_point_lies_on_a_reported_ray() =>
        Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), seed =>
        {
            var p = ReluOracle.Plant(seed);
            var rng = new RngStream(Rng.FromSeed(seed ^ 0x5bd1e995));
            var starts = Enumerable.Range(0, 6).Select(_ => Enumerable.Range(0, p.W.Hidden).Select(_ => rng.Uniform()).ToImmutableArray())
                .Append([.. p.V.Select(x => x + 0.1 * rng.Uniform())]).ToArray();
            var ends = ReluFixedPoints.Iterate(p.W, starts, 500).Ends;
            int checkedEnds = 0;
            foreach (var e in ends.Where(e => !e.Collapsed && !e.Diverged && e.RelativeStep < 1e-12))
            {
                checkedEnds++;
                // The end's pattern, read off the end itself, a unit still decaying towards 0 (below 1e-9 ‖h‖) counted as off.
                ImmutableArray<bool> pattern = [.. e.End.Select(x => x > 1e-9 * e.Norm)];
                var r = ReluFixedPoints.Exact(p.W, [pattern]).Single();
                var direction = ReluOracle.Unit(e.End);
                bool ok = r.Verdict == ReluRayVerdict.FixedRay && (r.NullSpaceDimension >= 2 || ReluOracle.MaxDiff(r.Direction, direction) < 1e-6)
                    || r.Verdict == ReluRayVerdict.Undecided && r.NullSpaceDimension >= 2;
                if (!ok) return false.Label($"end [{string.Join(", ", e.End)}]: {r.Verdict}, k = {r.NullSpaceDimension}, direction [{string.Join(", ", r.Direction)}]");
            }
            return true.ToProperty().Classify(checkedEnds > 0, "some end converged to a nonzero point");
        });

    [Property(MaxTest = 100)]
    public Property A_contracting_net_collapses_and_every_visited_pattern_contracts() =>
        Prop.ForAll(Gen.Choose(1, 6).ToArbitrary(), Gen.Choose(0, int.MaxValue).ToArbitrary(), (n, seed) =>
        {
            // Scaled to Frobenius norm 0.9, so ‖W‖₂ ≤ 0.9 and every ρ(D_S W) ≤ ‖D_S W‖₂ ≤ 0.9.
            var rng = new RngStream(Rng.FromSeed(seed));
            var raw = Enumerable.Range(0, n * n).Select(_ => rng.Normal()).ToArray();
            var frobenius = Math.Sqrt(raw.Sum(x => x * x));
            var w = ReluOracle.Net(n, [.. raw.Select(x => 0.9 * x / frobenius)]);
            var starts = Enumerable.Range(0, 10).Select(_ => Enumerable.Range(0, n).Select(_ => 3 * rng.Uniform()).ToImmutableArray()).ToArray();
            var iterated = ReluFixedPoints.Iterate(w, starts, 500);
            // The visited states, iterated here by hand.
            var visited = new List<ImmutableArray<double>>();
            foreach (var s in starts)
            {
                IReadOnlyList<double> h = s;
                for (int t = 0; t < 30; t++) { h = ReluOracle.Map(w, h); visited.Add([.. h]); }
            }
            var patterns = ReluFixedPoints.Patterns(visited).Select(p => p.Pattern).ToArray();
            var origin = ReluFixedPoints.OriginStability(w, patterns);
            // ‖W‖₂ by power iteration on WᵀW.
            var x = Enumerable.Repeat(1.0, n).ToArray();
            double norm = 0;
            for (int it = 0; it < 2000; it++)
            {
                var y = Enumerable.Range(0, n).Select(i => Enumerable.Range(0, n).Sum(j => (double)w.RecurrentWeights[i * n + j] * x[j])).ToArray();
                var z = Enumerable.Range(0, n).Select(j => Enumerable.Range(0, n).Sum(i => (double)w.RecurrentWeights[i * n + j] * y[i])).ToArray();
                var zn = Math.Sqrt(z.Sum(v => v * v));
                if (zn == 0) break;
                norm = Math.Sqrt(zn);
                x = [.. z.Select(v => v / zn)];
            }
            return (iterated.Ends.All(e => e.Collapsed && !e.Diverged) && iterated.CollapsedShare == 1
                    && origin.MaxSpectralRadius < 1 && origin.MaxNorm <= 0.9 + 1e-9 && origin.ProvablyAttracting
                    && origin.Stability == Stability.Stable && Math.Abs(origin.RecurrentNorm - norm) < 1e-6 && origin.Patterns == patterns.Length)
                .Label($"ends [{string.Join(", ", iterated.Ends.Select(e => e.Norm))}], ρ {origin.MaxSpectralRadius}, max ‖D_S W‖ {origin.MaxNorm}, ‖W‖ {origin.RecurrentNorm} vs {norm}");
        });

    [Fact]
    public void An_expanding_net_diverges_and_its_origin_is_unstable()
    {
        var w = ReluOracle.Net(2, [2, 0, 0, 1.5]);
        var end = ReluFixedPoints.Iterate(w, [[1.0, 1.0]], 2000).Ends.Single();
        Assert.True(end.Diverged && !end.Collapsed);
        var origin = ReluFixedPoints.OriginStability(w, [[false, true], [true, true]]);
        Assert.Equal(2, origin.MaxSpectralRadius, 12);
        Assert.Equal(new[] { true, true }, origin.MaxRadiusPattern);
        Assert.Equal(Stability.Unstable, origin.Stability);
        Assert.False(origin.ProvablyAttracting);
    }

    [Fact]
    public void Patterns_are_counted_most_frequent_first()
    {
        var counts = ReluFixedPoints.Patterns([[1.0, 0], [0, 0], [2, 0], [0, 3], [0, 0.5], [4, 0]]);
        Assert.Equal(3, counts.Length);
        Assert.Equal(new[] { true, false }, counts[0].Pattern);
        Assert.Equal(3, counts[0].Count);
        Assert.Equal(new[] { false, true }, counts[1].Pattern);
        Assert.Equal(2, counts[1].Count);
        Assert.Equal(new[] { false, false }, counts[2].Pattern);
        Assert.Equal(1, counts[2].Count);
    }
}

/// <summary>Jacobian spectra against closed forms: diagonal nets, rotation-scaling blocks, traces, hand-picked eigenvalues.</summary>
public class JacobianSpectraProperties
{
    [Property(MaxTest = 200)]
    public Property A_diagonal_net_has_its_masked_diagonal_as_eigenvalues() =>
        Prop.ForAll(Gen.Choose(1, 7).ToArbitrary(), Gen.Choose(0, int.MaxValue).ToArbitrary(), (n, seed) =>
        {
            var rng = new RngStream(Rng.FromSeed(seed));
            var d = Enumerable.Range(0, n).Select(_ => 3 * rng.Normal()).ToArray();
            var w = new double[n * n];
            for (int i = 0; i < n; i++) w[i * n + i] = d[i];
            var net = ReluOracle.Net(n, w);
            var pre = Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, n).Select(_ => rng.Normal()).ToImmutableArray()).ToArray();
            var steps = JacobianSpectra.FromPreActivations(net, pre);
            for (int t = 0; t < pre.Length; t++)
            {
                var expected = Enumerable.Range(0, n).Select(i => pre[t][i] > 0 ? (double)(float)d[i] : 0).Order().ToArray();
                var got = steps[t].Eigenvalues;
                var unstable = expected.Count(v => Math.Abs(v) > 1);
                if (got.Any(l => l.Imaginary != 0) || ReluOracle.MaxDiff(got.Select(l => l.Real).Order(), expected) > 1e-12
                    || steps[t].Unstable != unstable || steps[t].NearCriticalPairs != 0 || !steps[t].Pattern.SequenceEqual(pre[t].Select(a => a > 0)))
                    return false.Label($"step {t}: [{string.Join(", ", got)}] vs [{string.Join(", ", expected)}], unstable {steps[t].Unstable} vs {unstable}");
            }
            return true.ToProperty();
        });

    [Property(MaxTest = 200)]
    public Property A_rotation_scaling_block_has_its_complex_pair() =>
        Prop.ForAll(Gen.Choose(500, 1500).ToArbitrary(), Gen.Choose(50, 3000).ToArbitrary(), (rk, tk) =>
        {
            // W = [[r cos θ, −r sin θ, 0], [r sin θ, r cos θ, 0], [1, 1, 5]] on S = {0, 1}: eigenvalues r e^{±iθ} and 0.
            double r = rk / 1000.0, theta = tk / 1000.0;
            var net = ReluOracle.Net(3, [r * Math.Cos(theta), -r * Math.Sin(theta), 0, r * Math.Sin(theta), r * Math.Cos(theta), 0, 1, 1, 5]);
            var step = JacobianSpectra.FromPreActivations(net, [[1.0, 2.0, -1.0]]).Single();
            // The float32 weights' own block, and μ = (λ − 1)/(λ + 1) in closed form: Re μ = (ρ² − 1)/(ρ² + 2ρ cos φ + 1), Im μ = 2ρ sin φ/(…).
            double a = (float)(r * Math.Cos(theta)), b = (float)(r * Math.Sin(theta));
            double rho = Math.Sqrt(a * a + b * b), phi = Math.Atan2(b, a);
            double denominator = rho * rho + 2 * rho * Math.Cos(phi) + 1, re = (rho * rho - 1) / denominator, im = 2 * rho * Math.Sin(phi) / denominator;
            int critical = Math.Abs(re) < 0.1 && im > 0.06 ? 1 : 0, unstable = rho > 1 ? 2 : 0;
            var top = step.Eigenvalues.Take(2).OrderByDescending(l => l.Imaginary).ToArray();
            var err = Math.Max((top[0] - new Complex(a, b)).Magnitude, (top[1] - new Complex(a, -b)).Magnitude);
            return (err < 1e-12 && step.Eigenvalues[2] == Complex.Zero && step.Unstable == unstable && step.NearCriticalPairs == critical)
                .Label($"eigenvalues [{string.Join(", ", step.Eigenvalues)}], unstable {step.Unstable} vs {unstable}, near-critical {step.NearCriticalPairs} vs {critical}");
        });

    [Fact]
    public void The_near_critical_test_on_hand_picked_eigenvalues()
    {
        // μ(i) = i: on the circle, Im 1. μ(−i) = −i. μ(1) = 0. μ(e^{0.1i}) = i tan 0.05 = 0.050i: too slow a rotation.
        // λ = 1.1 e^{i}: Re μ = 0.21/(2.21 + 2.2 cos 1) = 0.0618, Im μ = 2.2 sin 1/(…) = 0.545. λ = 1.3 e^{i}: Re μ = 0.1685.
        Assert.True(JacobianSpectra.IsNearCritical(Complex.ImaginaryOne));
        Assert.False(JacobianSpectra.IsNearCritical(-Complex.ImaginaryOne));
        Assert.False(JacobianSpectra.IsNearCritical(Complex.One));
        Assert.False(JacobianSpectra.IsNearCritical(Complex.FromPolarCoordinates(1, 0.1)));
        Assert.True(JacobianSpectra.IsNearCritical(Complex.FromPolarCoordinates(1, 0.13)));   // tan 0.065 = 0.0651
        Assert.True(JacobianSpectra.IsNearCritical(Complex.FromPolarCoordinates(1.1, 1)));
        Assert.False(JacobianSpectra.IsNearCritical(Complex.FromPolarCoordinates(1.3, 1)));
        Assert.False(JacobianSpectra.IsNearCritical(Complex.FromPolarCoordinates(0.75, 1)));  // Re μ = −0.4375/(1.5625 + 1.5 cos 1) = −0.186
        Assert.True(JacobianSpectra.IsNearCritical(Complex.FromPolarCoordinates(0.9, 1)));    // Re μ = −0.19/(1.81 + 1.8 cos 1) = −0.0672
        Assert.False(JacobianSpectra.IsNearCritical(-Complex.One));
        Assert.False(JacobianSpectra.IsNearCritical(Complex.ImaginaryOne, new JacobianOptions(CriticalImaginary: 1.5)));
        Assert.True(JacobianSpectra.IsUnstable(new Complex(0.8, 0.7)));   // |λ| = 1.063
        Assert.False(JacobianSpectra.IsUnstable(new Complex(0.7, 0.7)));  // |λ| = 0.990
    }

    [Property(MaxTest = 200)]
    public Property Eigenvalues_have_the_traces_of_the_masked_matrix() =>
        Prop.ForAll(Gen.Choose(1, 7).ToArbitrary(), Gen.Choose(0, int.MaxValue).ToArbitrary(), (n, seed) =>
        {
            // Σλ = tr(D_S W) = Σ_{i∈S} W_ii and Σλ² = tr((D_S W)²) = Σ_{i,j∈S} W_ij W_ji.
            var rng = new RngStream(Rng.FromSeed(seed));
            var net = ReluOracle.Net(n, [.. Enumerable.Range(0, n * n).Select(_ => rng.Normal())]);
            ImmutableArray<bool> s = [.. Enumerable.Range(0, n).Select(_ => rng.Uniform() < 0.6)];
            double W(int i, int j) => net.RecurrentWeights[i * n + j];
            var eig = JacobianSpectra.Eigenvalues(net, s);
            var active = Enumerable.Range(0, n).Where(i => s[i]).ToArray();
            var trace = active.Sum(i => W(i, i));
            var trace2 = active.Sum(i => active.Sum(j => W(i, j) * W(j, i)));
            var sum = eig.Aggregate(Complex.Zero, (acc, l) => acc + l);
            var sum2 = eig.Aggregate(Complex.Zero, (acc, l) => acc + l * l);
            var sorted = eig.Zip(eig.Skip(1), (x, y) => x.Magnitude >= y.Magnitude - 1e-15).All(b => b);
            return (eig.Length == n && (sum - trace).Magnitude < 1e-9 && (sum2 - trace2).Magnitude < 1e-9 && sorted)
                .Label($"Σλ = {sum} vs {trace}, Σλ² = {sum2} vs {trace2}, sorted {sorted}");
        });

    [Property(MaxTest = 100)]
    public Property Along_a_run_the_pattern_is_the_next_states_support() =>
        Prop.ForAll(Gen.Choose(1, 6).ToArbitrary(), Gen.Choose(1, 3).ToArbitrary(), Gen.Choose(0, int.MaxValue).ToArbitrary(), (n, d, seed) =>
        {
            // h_t = ReLU(a_t), so 1[a_t > 0] = 1[h_t > 0]; the run comes from Core's reference dynamics.
            var rng = new RngStream(Rng.FromSeed(seed));
            var net = ReluOracle.Net(n, [.. Enumerable.Range(0, n * n).Select(_ => rng.Normal() / Math.Sqrt(n))], d,
                [.. Enumerable.Range(0, n * d).Select(_ => rng.Normal())]);
            int T = 12;
            var inputs = Enumerable.Range(0, T * d).Select(_ => rng.Normal()).ToArray();
            var run = ReluRnn.Run(net, inputs);
            var states = new List<ImmutableArray<double>> { ImmutableArray.Create(new double[n]) };
            for (int t = 0; t < T; t++) states.Add([.. run.Hidden.Skip(t * n).Take(n)]);
            var xs = Enumerable.Range(0, T).Select(t => inputs.Skip(t * d).Take(d).ToImmutableArray()).ToArray();
            var steps = JacobianSpectra.FromStates(net, states, xs);
            var wrong = Enumerable.Range(0, T).Count(t => !steps[t].Pattern.SequenceEqual(states[t + 1].Select(h => h > 0)));
            // At the states themselves (the reference's per-state count): the pattern of W_hh h.
            var at = JacobianSpectra.AtStates(net, states);
            var wrongAt = Enumerable.Range(0, states.Count).Count(t => !at[t].Pattern.SequenceEqual(
                Enumerable.Range(0, n).Select(i => Enumerable.Range(0, n).Sum(j => (double)net.RecurrentWeights[i * n + j] * states[t][j]) > 0)));
            return (steps.Length == T && wrong == 0 && wrongAt == 0).Label($"{wrong} steps and {wrongAt} states with the wrong pattern");
        });
}

/// <summary>Residency times on planted systems, the class rule, determinism, and the noise-free limit against iteration.</summary>
public class ResidencyProperties
{
    // Φ(−0.6744897501960817) = 0.25 (the lower quartile of the standard normal).
    private const double LowerQuartile = -0.6744897501960817;

    /// <summary>
    /// Five units, one noise input, two outputs. Units 0 and 1 swap (a fast segment: the arg-max flips every step);
    /// unit 2 excites itself (a slow segment: never flips); unit 4 excites itself at 1 and drives unit 3 by c, which
    /// also gets the noise: h₃' = ReLU(c + σ z). Readout y₀ = h₀ + h₂ + h₃, y₁ = h₁ + h₄. From (0, 0, 0, 2, 1) the
    /// arg-max stays 0 while c + σ z &gt; 1, with probability q = 0.75 when c = 1 − σ Φ⁻¹(0.25): RT = (1 − q⁶⁰)/(1 − q) ≈ 4.
    /// </summary>
    private static ReluRnnWeights Planted(double sigma)
    {
        double c = 1 - sigma * LowerQuartile;
        double[] w =
        [
            0, 1, 0, 0, 0,
            1, 0, 0, 0, 0,
            0, 0, 1, 0, 0,
            0, 0, 0, 0, c,
            0, 0, 0, 0, 1,
        ];
        return ReluOracle.Net(5, w, 1, [0, 0, 0, 1, 0], 2, [1, 0, 1, 1, 0, 0, 1, 0, 0, 1]);
    }

    [Fact]
    public void Planted_fast_slow_and_kick_segments_are_classified()
    {
        const double sigma = 0.01;
        var w = Planted(sigma);
        ImmutableArray<double> fast0 = [1, 0, 0, 0, 0], fast1 = [0, 1, 0, 0, 0], slow = [0, 0, 5, 0, 0], weak = [0, 0, 0.5, 0, 0], kick = [0, 0, 0, 2, 1];
        var states = new List<ImmutableArray<double>> { fast0, fast1, slow, weak };
        states.AddRange(Enumerable.Repeat(kick, 500));
        var result = Residency.Compute(w, states, sigma, Rng.FromSeed(7));
        Assert.Equal(1, result.Times[0]);
        Assert.Equal(1, result.Times[1]);
        Assert.Equal(ResidencyClass.Transition, result.Classes[0]);
        Assert.Equal(new[] { 0, 1 }, result.StartSymbols.Take(2));
        Assert.Equal(60, result.Times[2]);                      // never changes: counted as MaxSteps
        Assert.Equal(ResidencyClass.SlowCluster, result.Classes[2]);
        Assert.Equal(1 / (1 + Math.Exp(-5)), result.MaxProbability[2], 12);
        Assert.Equal(60, result.Times[3]);
        Assert.Equal(ResidencyClass.Other, result.Classes[3]);   // softmax(0.5, 0) = 0.62 ≤ 0.8
        var kicks = result.Times.Skip(4).ToArray();
        var expected = (1 - Math.Pow(0.75, 60)) / 0.25;
        // Stopping time T: Var T = q/(1 − q)² = 12; 10,000 draws give a standard error of 0.035.
        Assert.InRange(kicks.Average(), expected - 0.2, expected + 0.2);
        Assert.True(result.Classes.Skip(4).Count(k => k == ResidencyClass.KickZone) > 450, $"{result.Classes.Skip(4).Count(k => k == ResidencyClass.KickZone)} of 500 kick states in the kick zone");
        Assert.True(result.Share(ResidencyClass.Transition) >= 2.0 / 504 && result.Share(ResidencyClass.Other) >= 1.0 / 504);
        Assert.Equal(1.0, Enum.GetValues<ResidencyClass>().Sum(result.Share), 12);
    }

    [Fact]
    public void The_class_rule_on_hand_made_times()
    {
        Assert.Equal(ResidencyClass.Transition, Residency.Classify(1.99, 0.99));
        Assert.Equal(ResidencyClass.KickZone, Residency.Classify(2, 0.1));
        Assert.Equal(ResidencyClass.KickZone, Residency.Classify(8, 0.99));
        Assert.Equal(ResidencyClass.SlowCluster, Residency.Classify(8.01, 0.81));
        Assert.Equal(ResidencyClass.Other, Residency.Classify(8.01, 0.8));
        Assert.Equal(ResidencyClass.SlowCluster, Residency.Classify(60, 0.9));
        var custom = new ResidencyOptions(TransitionBelow: 3, KickUpTo: 10, SlowProbability: 0.5);
        Assert.Equal(ResidencyClass.Transition, Residency.Classify(2.5, 0.9, custom));
        Assert.Equal(ResidencyClass.KickZone, Residency.Classify(10, 0.9, custom));
        Assert.Equal(ResidencyClass.SlowCluster, Residency.Classify(10.5, 0.6, custom));
        Assert.Throws<ArgumentException>(() => Residency.Classify(1, 0.5, new ResidencyOptions(TransitionBelow: 5, KickUpTo: 4)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Residency.Compute(Planted(1), [[0, 0, 0, 2, 1]], -1, Rng.FromSeed(1)));
    }

    private static ReluRnnWeights RandomNet(int n, int d, int o, RngStream rng, double gain) =>
        ReluOracle.Net(n, [.. Enumerable.Range(0, n * n).Select(_ => gain * rng.Normal() / Math.Sqrt(n))], d,
            [.. Enumerable.Range(0, n * d).Select(_ => rng.Normal())], o, [.. Enumerable.Range(0, o * n).Select(_ => rng.Normal())]);

    [Property(MaxTest = 50)]
    public Property The_same_seed_gives_the_same_result_and_a_prefix_of_states_its_prefix() =>
        Prop.ForAll(Gen.Choose(1, 7).ToArbitrary(), Gen.Choose(0, int.MaxValue).ToArbitrary(), (n, seed) =>
        {
            var rng = new RngStream(Rng.FromSeed(seed));
            var net = RandomNet(n, 2, 3, rng, 1.2);
            var states = Enumerable.Range(0, 10).Select(_ => Enumerable.Range(0, n).Select(_ => 2 * rng.Uniform()).ToImmutableArray()).ToArray();
            var options = new ResidencyOptions(Continuations: 20, MaxSteps: 25);
            var a = Residency.Compute(net, states, 0.7, Rng.FromSeed(seed), options);
            var b = Residency.Compute(net, states, 0.7, Rng.FromSeed(seed), options);
            // Blocks hold 3 states here: the first 7 states fall into different blocks than the 10 do, yet draw the same noise.
            var prefix = Residency.Compute(net, states[..7], 0.7, Rng.FromSeed(seed), options);
            return (a.Times.SequenceEqual(b.Times) && a.Classes.SequenceEqual(b.Classes) && a.Times.Take(7).SequenceEqual(prefix.Times))
                .Label($"[{string.Join(", ", a.Times)}] / [{string.Join(", ", b.Times)}] / [{string.Join(", ", prefix.Times)}]");
        });

    [Property(MaxTest = 100)]
    public Property Without_noise_every_continuation_is_the_iterated_map() =>
        Prop.ForAll((from n in Gen.Choose(1, 9) from d in Gen.Choose(1, 5) from o in Gen.Choose(1, 3) from seed in Gen.Choose(0, int.MaxValue) select (n, d, o, seed)).ToArbitrary(),
            c =>
            {
                var (n, d, o, seed) = c;
                // σ = 0: RT is the first k ≤ 15 with arg-max A F^k(h) ≠ arg-max A h (F from Core's ReluRnn.Step), else 15.
                var rng = new RngStream(Rng.FromSeed(seed));
                var net = RandomNet(n, d, o, rng, 1.5);
                var states = Enumerable.Range(0, 8).Select(_ => Enumerable.Range(0, n).Select(_ => 2 * rng.Uniform()).ToImmutableArray()).ToArray();
                var result = Residency.Compute(net, states, 0, Rng.FromSeed(seed), new ResidencyOptions(Continuations: 20, MaxSteps: 15));
                int ArgMax(IReadOnlyList<double> h)
                {
                    var y = Enumerable.Range(0, o).Select(k => Enumerable.Range(0, n).Sum(j => (double)net.Readout[k * n + j] * h[j])).ToArray();
                    return Array.IndexOf(y, y.Max());
                }
                var expected = states.Select(s =>
                {
                    var h = s.ToArray();
                    int first = ArgMax(h);
                    for (int k = 1; k <= 15; k++)
                    {
                        h = ReluRnn.Step(net, h, new double[d]);
                        if (ArgMax(h) != first) return (double)k;
                    }
                    return 15.0;
                }).ToArray();
                return (result.Times.SequenceEqual(expected) && result.StartSymbols.SequenceEqual(states.Select(s => ArgMax(s))))
                    .Label($"[{string.Join(", ", result.Times)}] vs [{string.Join(", ", expected)}]");
            });
}
