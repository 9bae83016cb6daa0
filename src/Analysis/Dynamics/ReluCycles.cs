using System.Collections.Immutable;
using HmmRnn.Core.Rnn;
using MathNet.Numerics.LinearAlgebra;
using Complex = System.Numerics.Complex;

namespace HmmRnn.Analysis.Dynamics;

/// <summary>What <see cref="ReluCycles.TwoCycles"/> decided for one ordered pair of activation patterns (S₁, S₂).</summary>
/// <param name="First">S₁, the pattern of h₁.</param>
/// <param name="Second">S₂, the pattern of h₂ = ReLU(W h₁).</param>
/// <param name="NullSpaceDimension">k = dim null(W_S₁S₂ W_S₂S₁ − I) within the tolerance.</param>
/// <param name="SmallestSingularValue">The smallest singular value of W_S₁S₂ W_S₂S₁ − I: how far the pair is from holding a 2-cycle (+∞ for an empty pattern).</param>
/// <param name="Verdict">
/// As for fixed points, <see cref="ReluRayVerdict.FixedRay"/> meaning here: the pair holds a 2-cycle of rays
/// {c h₁} → {c h₂} → {c h₁}, c &gt; 0 (the map is homogeneous, so cycles come as rays).
/// </param>
/// <param name="H1">h₁ (unit norm, zero off S₁) of a cycle; empty otherwise.</param>
/// <param name="H2">h₂ = ReLU(W h₁) of a cycle; empty otherwise.</param>
/// <param name="Residual">‖F(F(h₁)) − h₁‖ of a cycle (rounding); NaN otherwise.</param>
/// <param name="Stability">
/// Of a cycle: from the largest |λ| of the two-step Jacobian D₁ W D₂ W once the k eigenvalues nearest 1 (along the
/// ray) are set aside. Null without a cycle.
/// </param>
public sealed record ReluTwoCycle(ImmutableArray<bool> First, ImmutableArray<bool> Second, int NullSpaceDimension, double SmallestSingularValue,
    ReluRayVerdict Verdict, ImmutableArray<double> H1, ImmutableArray<double> H2, double Residual, Stability? Stability);

/// <summary>The 2-cycle search over a run's consecutive activation patterns.</summary>
/// <param name="Pairs">Ordered pairs (S₁, S₂), S₁ ≠ S₂, searched.</param>
/// <param name="Cycles">Those that hold a 2-cycle.</param>
/// <param name="Undecided">Pairs with a null space of dimension ≥ 2 whose one candidate was not feasible.</param>
/// <param name="Closest">The smallest singular value of W_S₁S₂ W_S₂S₁ − I over the pairs (NaN with none).</param>
public sealed record TwoCycleSearch(int Pairs, ImmutableArray<ReluTwoCycle> Cycles, int Undecided, double Closest);

/// <summary>
/// Exact 2-cycles of the autonomous bias-free ReLU map F(h) = ReLU(W_hh h), after SCYFI (Eisenmann et al. 2023), which
/// finds k-cycles of piecewise-linear RNNs by solving the linear system of each sequence of activation patterns. A 2-cycle
/// h₁ → h₂ → h₁ with patterns S₁ (of h₁) and S₂ (of h₂) satisfies h₂ = D₂ W h₁ and h₁ = D₁ W h₂, so h₁ restricted to S₁ is
/// in the null space of W_S₁S₂ W_S₂S₁ − I, and the signs must agree: (W h₁)_i &gt; 0 exactly on S₂, (W h₂)_i &gt; 0
/// exactly on S₁. Without biases the map is homogeneous, so a cycle is a pair of rays and needs an eigenvalue exactly 1 of
/// the two-step matrix: in trained float32 weights expect none, and read <see cref="TwoCycleSearch.Closest"/> for how near a
/// pair comes. Pairs with S₁ = S₂ are left to <see cref="ReluFixedPoints.Exact"/>: with one pattern a feasible solution is
/// a fixed ray (an eigenvalue −1 of W_SS would need h₂ = ReLU(−h₁) = 0).
/// </summary>
public static class ReluCycles
{
    /// <summary>Decides each ordered pair of patterns.</summary>
    /// <param name="weights">The network (only W_hh is used).</param>
    /// <param name="pairs">(S₁, S₂) with one flag per unit; pairs with S₁ = S₂ are refused.</param>
    /// <param name="options">Tolerances (default <see cref="ReluFixedPointOptions.Default"/>).</param>
    public static ImmutableArray<ReluTwoCycle> TwoCycles(ReluRnnWeights weights, IEnumerable<(ImmutableArray<bool> First, ImmutableArray<bool> Second)> pairs, ReluFixedPointOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(pairs);
        options = ReluFixedPoints.Check(options);
        var w = JacobianSpectra.Recurrent(weights);
        int H = weights.Hidden;
        var results = new List<ReluTwoCycle>();
        foreach (var (first, second) in pairs)
        {
            JacobianSpectra.CheckPattern(first, H, nameof(pairs));
            JacobianSpectra.CheckPattern(second, H, nameof(pairs));
            if (first.AsSpan().SequenceEqual(second.AsSpan())) throw new ArgumentException("a pair with S₁ = S₂ is a fixed-point question (ReluFixedPoints.Exact)", nameof(pairs));
            results.Add(Analyse(w, H, first, second, options));
        }
        return [.. results];
    }

    /// <summary>
    /// The search over a run: the <paramref name="maxPairs"/> most frequent ordered pairs of consecutive, different activation
    /// patterns (S_t, S_t+1) of the states.
    /// </summary>
    public static TwoCycleSearch Search(ReluRnnWeights weights, IReadOnlyList<ImmutableArray<double>> states, int maxPairs = 200, ReluFixedPointOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(states);
        if (maxPairs < 1) throw new ArgumentOutOfRangeException(nameof(maxPairs), maxPairs, "must be ≥ 1");
        var counts = new Dictionary<(ImmutableArray<bool>, ImmutableArray<bool>), (int Count, int First)>(PairComparer.Instance);
        ImmutableArray<bool> previous = default;
        for (int t = 0; t < states.Count; t++)
        {
            JacobianSpectra.CheckVector(states[t], weights.Hidden, t, nameof(states));
            ImmutableArray<bool> p = [.. states[t].Select(v => v > 0)];
            if (!previous.IsDefault && !previous.AsSpan().SequenceEqual(p.AsSpan()))
                counts[(previous, p)] = counts.TryGetValue((previous, p), out var c) ? (c.Count + 1, c.First) : (1, t);
            previous = p;
        }
        var chosen = counts.OrderByDescending(kv => kv.Value.Count).ThenBy(kv => kv.Value.First).Take(maxPairs).Select(kv => kv.Key).ToArray();
        var results = TwoCycles(weights, chosen, options);
        return new TwoCycleSearch(results.Length, [.. results.Where(r => r.Verdict == ReluRayVerdict.FixedRay)], results.Count(r => r.Verdict == ReluRayVerdict.Undecided),
            results.Length == 0 ? double.NaN : results.Min(r => r.SmallestSingularValue));
    }

    private static ReluTwoCycle Analyse(double[] w, int H, ImmutableArray<bool> first, ImmutableArray<bool> second, ReluFixedPointOptions options)
    {
        var a = Enumerable.Range(0, H).Where(i => first[i]).ToArray();
        var b = Enumerable.Range(0, H).Where(i => second[i]).ToArray();
        ReluTwoCycle None(int k, double smallest, ReluRayVerdict verdict) => new(first, second, k, smallest, verdict, [], [], double.NaN, null);
        if (a.Length == 0 || b.Length == 0) return None(0, double.PositiveInfinity, ReluRayVerdict.NoNullSpace);

        var wab = Matrix<double>.Build.Dense(a.Length, b.Length, (i, j) => w[a[i] * H + b[j]]);
        var wba = Matrix<double>.Build.Dense(b.Length, a.Length, (i, j) => w[b[i] * H + a[j]]);
        var shifted = wab * wba - Matrix<double>.Build.DenseIdentity(a.Length);
        var svd = shifted.Svd(computeVectors: true);
        double threshold = options.NullSpaceTolerance * Math.Max(1, svd.S[0]);
        var basis = Enumerable.Range(0, a.Length).Where(j => svd.S[j] <= threshold).Select(j => svd.VT.Row(j)).ToArray();
        int k = basis.Length;
        double smallest = svd.S[a.Length - 1];
        if (k == 0) return None(0, smallest, ReluRayVerdict.NoNullSpace);

        var v = Vector<double>.Build.Dense(a.Length);
        if (k == 1) v = basis[0].Sum() < 0 ? -basis[0] : basis[0];
        else foreach (var e in basis) v += e.Sum() * e;
        if (v.L2Norm() > 0) v /= v.L2Norm();
        var h1 = new double[H];
        for (int i = 0; i < a.Length; i++) h1[a[i]] = v[i];

        // The signs: W h₁ positive exactly on S₂ (that is h₂), W h₂ positive exactly on S₁ (and equal to h₁ there).
        double tol = options.FeasibilityTolerance;
        bool positive = v.Minimum() > tol;
        var drive1 = Drive(w, H, h1);
        var h2 = drive1.Select(x => x > 0 ? x : 0).ToArray();
        var drive2 = Drive(w, H, h2);
        bool signs = positive && Enumerable.Range(0, H).All(i => second[i] ? drive1[i] > tol : drive1[i] <= tol)
                              && Enumerable.Range(0, H).All(i => first[i] ? drive2[i] > tol : drive2[i] <= tol);
        var verdict = signs ? ReluRayVerdict.FixedRay : k >= 2 ? ReluRayVerdict.Undecided : positive ? ReluRayVerdict.InactiveDriven : ReluRayVerdict.NotPositive;
        if (verdict != ReluRayVerdict.FixedRay) return None(k, smallest, verdict);

        double residual = Math.Sqrt(Enumerable.Range(0, H).Sum(i => { var back = drive2[i] > 0 ? drive2[i] : 0; return (back - h1[i]) * (back - h1[i]); }));
        // The two-step Jacobian D₁ W D₂ W at h₁.
        var m = Matrix<double>.Build.Dense(H, H, (i, j) =>
        {
            if (!first[i]) return 0;
            double s = 0;
            for (int l = 0; l < H; l++) if (second[l]) s += w[i * H + l] * w[l * H + j];
            return s;
        });
        var eigenvalues = m.Evd().EigenValues.Select(c => new Complex(c.Real, c.Imaginary));
        var rest = eigenvalues.OrderBy(l => (l - Complex.One).Magnitude).Skip(k).Select(l => l.Magnitude).DefaultIfEmpty(0).Max();
        return new ReluTwoCycle(first, second, k, smallest, verdict, [.. h1], [.. h2], residual, ReluFixedPoints.Classify(rest, options.MarginalTolerance));
    }

    private static double[] Drive(double[] w, int H, double[] h)
    {
        var d = new double[H];
        ReluFixedPoints.Drive(w, H, h, d);
        return d;
    }

    private sealed class PairComparer : IEqualityComparer<(ImmutableArray<bool>, ImmutableArray<bool>)>
    {
        public static PairComparer Instance { get; } = new();
        public bool Equals((ImmutableArray<bool>, ImmutableArray<bool>) x, (ImmutableArray<bool>, ImmutableArray<bool>) y) =>
            PatternComparer.Instance.Equals(x.Item1, y.Item1) && PatternComparer.Instance.Equals(x.Item2, y.Item2);
        public int GetHashCode((ImmutableArray<bool>, ImmutableArray<bool>) p) =>
            HashCode.Combine(PatternComparer.Instance.GetHashCode(p.Item1), PatternComparer.Instance.GetHashCode(p.Item2));
    }
}
