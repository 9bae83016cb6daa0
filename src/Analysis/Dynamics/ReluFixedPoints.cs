using System.Collections.Immutable;
using Complex = System.Numerics.Complex;
using HmmRnn.Analysis.Numerics;
using HmmRnn.Core.Rnn;
using MathNet.Numerics.LinearAlgebra;

namespace HmmRnn.Analysis.Dynamics;

/// <summary>What <see cref="ReluFixedPoints.Exact"/> decided for one activation pattern S.</summary>
public enum ReluRayVerdict
{
    /// <summary>W_SS − I has no null space (within the tolerance): no fixed point with pattern S but the origin.</summary>
    NoNullSpace,
    /// <summary>
    /// A fixed ray {c v, c &gt; 0}: v_S &gt; 0 spans or lies in the null space of W_SS − I and every inactive unit's
    /// drive (W v)_i ≤ 0. For a null space of dimension k ≥ 2 the fixed points of S form a cone of dimension up
    /// to k; v is one ray in it (a witness).
    /// </summary>
    FixedRay,
    /// <summary>The null space is one line and its spanning vector is not strictly positive on S (mixed signs or a zero entry).</summary>
    NotPositive,
    /// <summary>The null space is one line, strictly positive on S, but some inactive unit would be driven above zero.</summary>
    InactiveDriven,
    /// <summary>
    /// The null space has dimension k ≥ 2 and the one candidate tried (the projection of 1_S onto it) is not
    /// feasible; whether another vector in it is (a linear-programming question) is not decided.
    /// </summary>
    Undecided,
}

/// <summary>Tolerances of <see cref="ReluFixedPoints"/>.</summary>
/// <param name="NullSpaceTolerance">A singular value σ of W_SS − I counts as zero when σ ≤ this × max(1, σ_max).</param>
/// <param name="FeasibilityTolerance">For a unit direction v: active units need v_i &gt; this; inactive units need (W v)_i ≤ this.</param>
/// <param name="MarginalTolerance">|λ| within this of 1 is marginal (as <see cref="FixedPointOptions.MarginalTolerance"/>).</param>
public sealed record ReluFixedPointOptions(double NullSpaceTolerance = 1e-9, double FeasibilityTolerance = 1e-9, double MarginalTolerance = 1e-3)
{
    /// <summary>The defaults above.</summary>
    public static ReluFixedPointOptions Default { get; } = new();
}

/// <summary>The fixed-point analysis of one activation pattern S of F(h) = ReLU(W h).</summary>
/// <param name="Pattern">S, one flag per unit (true: active).</param>
/// <param name="NullSpaceDimension">k = dim null(W_SS − I) within the tolerance (0 for the empty pattern).</param>
/// <param name="SmallestSingularValue">The smallest singular value of W_SS − I (how far S is from holding a fixed ray; +∞ for the empty pattern).</param>
/// <param name="Verdict">Whether S holds a fixed ray.</param>
/// <param name="Direction">For <see cref="ReluRayVerdict.FixedRay"/>: the unit vector v (zero off S, positive on S); empty otherwise.</param>
/// <param name="Residual">‖ReLU(W v) − v‖ for the direction (rounding of the null vector), NaN without one.</param>
/// <param name="Eigenvalues">The H eigenvalues of D_S W, largest modulus first.</param>
/// <param name="Stability">
/// For a fixed ray: from the largest |λ| once the k eigenvalues nearest 1 (those along the ray or cone, exactly 1
/// up to rounding) are set aside. Stable means nearby states in S's cone settle onto a (nearby) point of the ray:
/// a line attractor, neutral along itself. Linear within the cone only: at a cone boundary the map switches
/// pattern. Null without a fixed ray.
/// </param>
public sealed record ReluPatternFixedPoint(ImmutableArray<bool> Pattern, int NullSpaceDimension, double SmallestSingularValue, ReluRayVerdict Verdict,
    ImmutableArray<double> Direction, double Residual, ImmutableArray<Complex> Eigenvalues, Stability? Stability)
{
    /// <summary>The largest |λ| of D_S W.</summary>
    public double SpectralRadius => Eigenvalues.Length == 0 ? 0 : Eigenvalues[0].Magnitude;

    /// <summary>|S|.</summary>
    public int Active => Pattern.Count(a => a);
}

/// <summary>An activation pattern and how many of the given states had it.</summary>
/// <param name="Pattern">The units with h_i &gt; 0.</param>
/// <param name="Count">The number of states with this pattern.</param>
public sealed record ActivationPatternCount(ImmutableArray<bool> Pattern, int Count);

/// <summary>The origin's linear stability read from the patterns the dynamics visit.</summary>
/// <param name="Patterns">The number of patterns looked at.</param>
/// <param name="MaxSpectralRadius">The largest spectral radius ρ(D_S W) over them.</param>
/// <param name="MaxRadiusPattern">The pattern where it is reached.</param>
/// <param name="MaxNorm">The largest spectral norm ‖D_S W‖₂ over them.</param>
/// <param name="RecurrentNorm">‖W‖₂, which bounds every ‖D_S W‖₂.</param>
/// <param name="Stability">From <see cref="MaxSpectralRadius"/> (marginal within the tolerance of 1).</param>
/// <remarks>
/// The origin is always a fixed point of ReLU(W h). Near it the map is D_S W in the cone of pattern S, so the
/// origin's stability is that of a switched linear system. ρ(D_S W) &lt; 1 for every visited pattern is a
/// necessary-looking but not a sufficient statement: products of matrices that each contract asymptotically can
/// still grow (the joint spectral radius can exceed every single radius), and patterns not in the sample are not
/// seen. Sufficient statements: <see cref="RecurrentNorm"/> &lt; 1 proves every trajectory decays to 0
/// (‖ReLU(W h)‖ ≤ ‖W h‖ ≤ ‖W‖₂ ‖h‖); <see cref="MaxNorm"/> &lt; 1 proves decay for trajectories that stay in
/// the given patterns.
/// </remarks>
public sealed record ReluOriginStability(int Patterns, double MaxSpectralRadius, ImmutableArray<bool> MaxRadiusPattern, double MaxNorm,
    double RecurrentNorm, Stability Stability)
{
    /// <summary>‖W‖₂ &lt; 1: every trajectory of the autonomous map decays to the origin (a proof).</summary>
    public bool ProvablyAttracting => RecurrentNorm < 1;
}

/// <summary>Where one start of <see cref="ReluFixedPoints.Iterate"/> ended.</summary>
/// <param name="End">h after the steps (or where iteration stopped on divergence).</param>
/// <param name="StartNorm">‖h_0‖.</param>
/// <param name="Norm">‖h_end‖.</param>
/// <param name="RelativeStep">‖F(h_end) − h_end‖ / ‖h_end‖: near 0 at a fixed point; NaN at h_end = 0.</param>
/// <param name="Collapsed">‖h_end‖ ≤ the collapse tolerance × ‖h_0‖ (or h_end = 0): it went to the origin.</param>
/// <param name="Diverged">The norm passed 1e200 (or overflowed) and iteration stopped there.</param>
public sealed record ReluIterationEnd(ImmutableArray<double> End, double StartNorm, double Norm, double RelativeStep, bool Collapsed, bool Diverged);

/// <summary>The reference's iteration cross-check.</summary>
/// <param name="Ends">One per start, in order.</param>
/// <param name="Mean">The mean of the end points: the reference's "fixed point". Not itself a fixed point when ends lie on different rays.</param>
/// <param name="Steps">The number of steps.</param>
public sealed record ReluIterationResult(ImmutableArray<ReluIterationEnd> Ends, ImmutableArray<double> Mean, int Steps)
{
    /// <summary>The share of starts that collapsed to the origin.</summary>
    public double CollapsedShare => Ends.Length == 0 ? 0 : Ends.Count(e => e.Collapsed) / (double)Ends.Length;
}

/// <summary>
/// Exact fixed points of the autonomous bias-free ReLU map F(h) = ReLU(W_hh h) (Torre et al. 2025; SPEC A5;
/// issue 9 item 2). F is piecewise linear and positively homogeneous (F(c h) = c F(h), c ≥ 0): in the cone of
/// an activation pattern S it is h ↦ D_S W h with D_S = diag(1_S). A fixed point with pattern S has h_i = 0
/// off S, (W_SS − I) h_S = 0 with h_S &gt; 0, and (W h)_i ≤ 0 off S; by homogeneity it comes as a ray
/// {c v, c &gt; 0}. The origin is always a fixed point.
/// <para>
/// Per pattern, the null space of W_SS − I comes from MathNet's SVD (σ ≤ tolerance × max(1, σ_max) counts as
/// zero). A one-dimensional null space is decided exactly by the signs of its spanning vector and the
/// inactive units' drives. For dimension k ≥ 2 one candidate, the projection of 1_S onto the null space, is
/// tried: if feasible it proves a fixed cone (and is reported as its ray); otherwise the pattern is reported
/// <see cref="ReluRayVerdict.Undecided"/>, never as infeasible.
/// </para>
/// <para>
/// Weights are float32, so a trained network's W_SS has an eigenvalue exactly 1 only by accident: expect
/// <see cref="ReluRayVerdict.NoNullSpace"/> and read <see cref="ReluPatternFixedPoint.SmallestSingularValue"/>
/// and the spectrum for how close a pattern comes.
/// </para>
/// </summary>
public static class ReluFixedPoints
{
    /// <summary>Decides, for each given pattern, whether it holds a fixed ray, and its spectrum.</summary>
    /// <param name="weights">The network (only W_hh is used).</param>
    /// <param name="patterns">Activation patterns, each with one flag per unit (e.g. from <see cref="Patterns"/>); one result each, in order.</param>
    /// <param name="options">Tolerances (default <see cref="ReluFixedPointOptions.Default"/>).</param>
    public static ImmutableArray<ReluPatternFixedPoint> Exact(ReluRnnWeights weights, IEnumerable<ImmutableArray<bool>> patterns, ReluFixedPointOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(patterns);
        options = Check(options);
        var w = JacobianSpectra.Recurrent(weights);
        int H = weights.Hidden;
        var results = new List<ReluPatternFixedPoint>();
        foreach (var pattern in patterns)
        {
            JacobianSpectra.CheckPattern(pattern, H, nameof(patterns));
            results.Add(Analyse(w, H, pattern, options));
        }
        return [.. results];
    }

    /// <summary>The distinct activation patterns {i : h_i &gt; 0} of the states, most frequent first (ties: first seen first).</summary>
    /// <param name="states">States of equal length (e.g. a noisy run's hidden states).</param>
    public static ImmutableArray<ActivationPatternCount> Patterns(IReadOnlyList<ImmutableArray<double>> states)
    {
        ArgumentNullException.ThrowIfNull(states);
        if (states.Count == 0) return [];
        int H = states[0].IsDefault ? 0 : states[0].Length;
        var counts = new Dictionary<ImmutableArray<bool>, (int Count, int First)>(PatternComparer.Instance);
        for (int t = 0; t < states.Count; t++)
        {
            JacobianSpectra.CheckVector(states[t], H, t, nameof(states));
            ImmutableArray<bool> p = [.. states[t].Select(v => v > 0)];
            counts[p] = counts.TryGetValue(p, out var c) ? (c.Count + 1, c.First) : (1, t);
        }
        return [.. counts.OrderByDescending(kv => kv.Value.Count).ThenBy(kv => kv.Value.First).Select(kv => new ActivationPatternCount(kv.Key, kv.Value.Count))];
    }

    /// <summary>The origin's stability over the given patterns (see <see cref="ReluOriginStability"/> for what it does and does not prove).</summary>
    /// <param name="weights">The network.</param>
    /// <param name="patterns">At least one pattern (e.g. those a run visited).</param>
    /// <param name="options">The marginal tolerance (default <see cref="ReluFixedPointOptions.Default"/>).</param>
    public static ReluOriginStability OriginStability(ReluRnnWeights weights, IEnumerable<ImmutableArray<bool>> patterns, ReluFixedPointOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(patterns);
        options = Check(options);
        var w = JacobianSpectra.Recurrent(weights);
        int H = weights.Hidden, count = 0;
        double maxRadius = double.NegativeInfinity, maxNorm = 0;
        ImmutableArray<bool> at = default;
        foreach (var pattern in patterns)
        {
            JacobianSpectra.CheckPattern(pattern, H, nameof(patterns));
            count++;
            var eigenvalues = JacobianSpectra.Eigenvalues(w, H, pattern.AsSpan());
            var radius = eigenvalues.Length == 0 ? 0 : eigenvalues[0].Magnitude;
            if (radius > maxRadius) (maxRadius, at) = (radius, pattern);
            maxNorm = Math.Max(maxNorm, SpectralNorm(w, H, pattern.AsSpan()));
        }
        if (count == 0) throw new ArgumentException("is empty", nameof(patterns));
        var all = new bool[H];
        Array.Fill(all, true);
        return new ReluOriginStability(count, maxRadius, at, maxNorm, SpectralNorm(w, H, all), Classify(maxRadius, options.MarginalTolerance));
    }

    /// <summary>
    /// The reference's method, kept as a cross-check: iterate h ← ReLU(W_hh h) (no input) from each start and
    /// report where it ends (the reference runs 500 steps from 100 states of a noisy run and averages the ends).
    /// </summary>
    /// <param name="weights">The network.</param>
    /// <param name="starts">Start states of length H.</param>
    /// <param name="steps">Iterations, at least 1 (reference: 500).</param>
    /// <param name="collapseTolerance">An end counts as collapsed when ‖h_end‖ ≤ this × ‖h_0‖.</param>
    public static ReluIterationResult Iterate(ReluRnnWeights weights, IReadOnlyList<ImmutableArray<double>> starts, int steps = 500, double collapseTolerance = 1e-6)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(starts);
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "must be at least 1");
        if (!(collapseTolerance >= 0 && collapseTolerance < 1)) throw new ArgumentOutOfRangeException(nameof(collapseTolerance), collapseTolerance, "must be in [0, 1)");
        var w = JacobianSpectra.Recurrent(weights);
        int H = weights.Hidden;
        var ends = new ReluIterationEnd[starts.Count];
        var mean = new double[H];
        for (int s = 0; s < starts.Count; s++)
        {
            JacobianSpectra.CheckVector(starts[s], H, s, nameof(starts));
            var h = starts[s].ToArray();
            var next = new double[H];
            double startNorm = Vectors.Norm(h);
            bool diverged = false;
            for (int t = 0; t < steps; t++)
            {
                Apply(w, H, h, next);
                var n = Vectors.Norm(next);
                if (!(n <= 1e200)) { diverged = true; break; }
                (h, next) = (next, h);
            }
            var norm = Vectors.Norm(h);
            Apply(w, H, h, next);
            double move = 0;
            for (int i = 0; i < H; i++) move += (next[i] - h[i]) * (next[i] - h[i]);
            var relative = norm > 0 ? Math.Sqrt(move) / norm : double.NaN;
            ends[s] = new ReluIterationEnd(ImmutableArray.Create(h), startNorm, norm, relative, norm == 0 || norm <= collapseTolerance * startNorm, diverged);
            for (int i = 0; i < H; i++) mean[i] += h[i] / starts.Count;
        }
        return new ReluIterationResult(ImmutableArray.Create(ends), ImmutableArray.Create(mean), steps);
    }

    private static ReluPatternFixedPoint Analyse(double[] w, int H, ImmutableArray<bool> pattern, ReluFixedPointOptions options)
    {
        var eigenvalues = JacobianSpectra.Eigenvalues(w, H, pattern.AsSpan());
        var active = Enumerable.Range(0, H).Where(i => pattern[i]).ToArray();
        int m = active.Length;
        if (m == 0) return new ReluPatternFixedPoint(pattern, 0, double.PositiveInfinity, ReluRayVerdict.NoNullSpace, [], double.NaN, eigenvalues, null);

        var shifted = Matrix<double>.Build.Dense(m, m, (a, b) => w[active[a] * H + active[b]] - (a == b ? 1 : 0));
        var svd = shifted.Svd(computeVectors: true);
        var sigma = svd.S;
        double threshold = options.NullSpaceTolerance * Math.Max(1, sigma[0]);
        var basis = Enumerable.Range(0, m).Where(j => sigma[j] <= threshold).Select(j => svd.VT.Row(j)).ToArray();
        int k = basis.Length;
        double smallest = sigma[m - 1];
        if (k == 0) return new ReluPatternFixedPoint(pattern, 0, smallest, ReluRayVerdict.NoNullSpace, [], double.NaN, eigenvalues, null);

        // The candidate: the spanning vector (k = 1, sign chosen so that it sums to ≥ 0) or the projection of 1_S (k ≥ 2).
        var v = Vector<double>.Build.Dense(m);
        if (k == 1) v = basis[0].Sum() < 0 ? -basis[0] : basis[0];
        else foreach (var b in basis) v += b.Sum() * b;
        var length = v.L2Norm();
        if (length > 0) v /= length;

        var h = new double[H];
        for (int a = 0; a < m; a++) h[active[a]] = v[a];
        bool positive = length > 0 && v.Minimum() > options.FeasibilityTolerance;
        bool inactiveQuiet = true;
        for (int i = 0; i < H && positive; i++)
        {
            if (pattern[i]) continue;
            double drive = 0;
            for (int j = 0; j < H; j++) drive += w[i * H + j] * h[j];
            if (drive > options.FeasibilityTolerance) inactiveQuiet = false;
        }
        var verdict = positive && inactiveQuiet ? ReluRayVerdict.FixedRay
            : k >= 2 ? ReluRayVerdict.Undecided
            : positive ? ReluRayVerdict.InactiveDriven : ReluRayVerdict.NotPositive;
        if (verdict != ReluRayVerdict.FixedRay) return new ReluPatternFixedPoint(pattern, k, smallest, verdict, [], double.NaN, eigenvalues, null);

        var image = new double[H];
        Apply(w, H, h, image);
        double residual = 0;
        for (int i = 0; i < H; i++) residual += (image[i] - h[i]) * (image[i] - h[i]);
        // Set aside the k eigenvalues nearest 1 (along the ray or cone); classify by the rest.
        var rest = eigenvalues.OrderBy(l => (l - Complex.One).Magnitude).Skip(k).Select(l => l.Magnitude).DefaultIfEmpty(0).Max();
        return new ReluPatternFixedPoint(pattern, k, smallest, verdict, ImmutableArray.Create(h), Math.Sqrt(residual), eigenvalues,
            Classify(rest, options.MarginalTolerance));
    }

    internal static Stability Classify(double radius, double tolerance) =>
        radius < 1 - tolerance ? Stability.Stable : radius > 1 + tolerance ? Stability.Unstable : Stability.Marginal;

    /// <summary>‖D_S W‖₂: the largest singular value of the rows of W in S.</summary>
    private static double SpectralNorm(double[] w, int H, ReadOnlySpan<bool> pattern)
    {
        var rows = new List<int>();
        for (int i = 0; i < H; i++)
            if (pattern[i]) rows.Add(i);
        if (rows.Count == 0) return 0;
        var m = Matrix<double>.Build.Dense(rows.Count, H, (a, j) => w[rows[a] * H + j]);
        return m.Svd(computeVectors: false).S[0];
    }

    /// <summary>next = ReLU(W h).</summary>
    internal static void Apply(double[] w, int H, double[] h, double[] next)
    {
        Drive(w, H, h, next);
        for (int i = 0; i < H; i++) next[i] = next[i] > 0 ? next[i] : 0;
    }

    /// <summary>drive = W h, the pre-activation (W row-major H × H).</summary>
    internal static void Drive(double[] w, int H, double[] h, double[] drive)
    {
        for (int i = 0; i < H; i++)
        {
            double s = 0;
            for (int j = 0; j < H; j++) s += w[i * H + j] * h[j];
            drive[i] = s;
        }
    }

    internal static ReluFixedPointOptions Check(ReluFixedPointOptions? o)
    {
        o ??= ReluFixedPointOptions.Default;
        if (!(o.NullSpaceTolerance >= 0 && o.NullSpaceTolerance < 1)) throw new ArgumentException($"NullSpaceTolerance = {o.NullSpaceTolerance} must be in [0, 1)", "options");
        if (!(o.FeasibilityTolerance >= 0 && o.FeasibilityTolerance < 1)) throw new ArgumentException($"FeasibilityTolerance = {o.FeasibilityTolerance} must be in [0, 1)", "options");
        if (!(o.MarginalTolerance >= 0 && double.IsFinite(o.MarginalTolerance))) throw new ArgumentException($"MarginalTolerance = {o.MarginalTolerance} must be finite and ≥ 0", "options");
        return o;
    }
}
