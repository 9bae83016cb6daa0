using System.Collections.Immutable;
using Complex = System.Numerics.Complex;
using HmmRnn.Analysis.Numerics;
using HmmRnn.Core.Rnn;
using MathNet.Numerics.LinearAlgebra;

namespace HmmRnn.Analysis.Dynamics;

/// <summary>The linear stability of a point from its Jacobian's eigenvalues λ.</summary>
public enum Stability
{
    /// <summary>Every |λ| &lt; 1 − tolerance: nearby states are drawn in.</summary>
    Stable,
    /// <summary>The largest |λ| lies within the tolerance of 1 (e.g. along a line attractor).</summary>
    Marginal,
    /// <summary>Some |λ| &gt; 1 + tolerance.</summary>
    Unstable,
}

/// <summary>What a point found by <see cref="TanhFixedPoints.Find"/> is.</summary>
public enum FixedPointKind
{
    /// <summary>A true fixed point: q at or below <see cref="FixedPointOptions.FixedTolerance"/>.</summary>
    Fixed,
    /// <summary>
    /// A slow point: a local minimum of q that is not zero but at most <see cref="FixedPointOptions.SlowTolerance"/>
    /// (Sussillo and Barak 2013); the paper's line attractor shows as a curve of them.
    /// </summary>
    Slow,
}

/// <summary>How <see cref="TanhFixedPoints.Find"/> searches and classifies.</summary>
/// <param name="FixedTolerance">q = ½‖F(h) − h‖² at or below which h is a fixed point (1e-14: ‖F(h) − h‖ ≤ 1.4e-7).</param>
/// <param name="SlowTolerance">q at or below which a local minimum of q is reported as a slow point; minima above it are dropped.</param>
/// <param name="GradientTolerance">The search stops when every |∂q/∂h_i| is at most this; a slow point must meet it.</param>
/// <param name="DistinctDistance">Points closer than this (Euclidean) are one point: the one with the smaller q is kept.</param>
/// <param name="MarginalTolerance">|λ| within this of 1 is marginal.</param>
/// <param name="MaxIterations">Damped Newton steps per start.</param>
public sealed record FixedPointOptions(double FixedTolerance = 1e-14, double SlowTolerance = 1e-6, double GradientTolerance = 1e-10,
    double DistinctDistance = 1e-6, double MarginalTolerance = 1e-3, int MaxIterations = 500)
{
    /// <summary>The defaults above.</summary>
    public static FixedPointOptions Default { get; } = new();
}

/// <summary>A fixed or slow point of h ↦ tanh(W h + U o + b) under a constant input o.</summary>
/// <param name="State">h.</param>
/// <param name="Q">q(h) = ½‖tanh(W h + U o + b) − h‖².</param>
/// <param name="Eigenvalues">The eigenvalues of the Jacobian diag(1 − tanh²(a)) W at h, largest modulus first.</param>
/// <param name="Stability">From the largest |λ|.</param>
/// <param name="Kind">Fixed or slow.</param>
/// <param name="Starts">How many starts ended here (within the distinct distance).</param>
public sealed record FixedPoint(ImmutableArray<double> State, double Q, ImmutableArray<Complex> Eigenvalues, Stability Stability,
    FixedPointKind Kind, int Starts)
{
    /// <summary>The largest |λ|.</summary>
    public double SpectralRadius => Eigenvalues.Length == 0 ? 0 : Eigenvalues[0].Magnitude;
}

/// <summary>What <see cref="TanhFixedPoints.Find"/> found.</summary>
/// <param name="Points">Distinct fixed and slow points, smallest q first (so fixed points come first).</param>
/// <param name="Starts">The number of starts.</param>
/// <param name="Dropped">Starts that ended neither at a fixed point nor at a slow point (q above the slow tolerance, not stationary, or not a minimum).</param>
public sealed record FixedPointResult(ImmutableArray<FixedPoint> Points, int Starts, int Dropped)
{
    /// <summary>The true fixed points.</summary>
    public ImmutableArray<FixedPoint> Fixed => [.. Points.Where(p => p.Kind == FixedPointKind.Fixed)];

    /// <summary>The slow points.</summary>
    public ImmutableArray<FixedPoint> Slow => [.. Points.Where(p => p.Kind == FixedPointKind.Slow)];
}

/// <summary>
/// Fixed points and slow points of a tanh RNN held at a constant input (Schaeffer et al. 2020, §3.3;
/// Sussillo and Barak 2013): minimise q(h) = ½‖r(h)‖², r(h) = tanh(W h + c) − h with c = U o + b, from
/// many starts (e.g. states the network visited).
/// <para>
/// The search is Newton's method on q with its exact Hessian, JᵀJ + Σᵢ rᵢ ∇²rᵢ (J = diag(1 − t²) W − I,
/// ∇²rᵢ = −2 tᵢ (1 − tᵢ²) wᵢ wᵢᵀ with wᵢ row i of W), damped Levenberg-style (H + μI) until q decreases.
/// The exact Hessian matters: at a slow point J is singular along the slow direction, and Gauss–Newton
/// alone crawls there. Points with q at the fixed tolerance are polished by Newton's method on r(h) = 0.
/// </para>
/// </summary>
public static class TanhFixedPoints
{
    /// <summary>Searches from every start and returns the distinct fixed and slow points, classified.</summary>
    /// <param name="weights">The network.</param>
    /// <param name="input">o, held fixed, length I.</param>
    /// <param name="starts">Initial states, each of length H (e.g. a sample of the states a session visited).</param>
    /// <param name="options">Tolerances (default <see cref="FixedPointOptions.Default"/>).</param>
    /// <exception cref="ArgumentException">An input, start or option of the wrong shape or value.</exception>
    public static FixedPointResult Find(TanhRnnWeights weights, double[] input, IReadOnlyList<double[]> starts, FixedPointOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(starts);
        options ??= FixedPointOptions.Default;
        CheckOptions(options);
        var c = Drive(weights, input);
        int H = weights.Hidden;
        for (int s = 0; s < starts.Count; s++)
        {
            if (starts[s] is null || starts[s].Length != H) throw new ArgumentException($"start {s} has {starts[s]?.Length ?? 0} entries, the network {H} units", nameof(starts));
            foreach (var v in starts[s])
                if (!double.IsFinite(v)) throw new ArgumentException($"start {s} contains {v}", nameof(starts));
        }

        var candidates = new List<(double[] H, double Q, FixedPointKind Kind)>();
        int dropped = 0;
        foreach (var start in starts)
        {
            var (h, q, gradient) = Minimise(weights, c, (double[])start.Clone(), options);
            // Only roots are polished: from a slow point Newton's step on r (J nearly singular there) could leap to some other root.
            if (q <= options.FixedTolerance) (h, q) = Polish(weights, c, h, q);
            if (q <= options.FixedTolerance) candidates.Add((h, q, FixedPointKind.Fixed));
            else if (q <= options.SlowTolerance && gradient <= options.GradientTolerance && IsLocalMinimum(weights, c, h))
                candidates.Add((h, q, FixedPointKind.Slow));
            else dropped++;
        }

        // Distinct points, best (smallest q) first: each candidate joins the first kept point within the distance.
        var kept = new List<(double[] H, double Q, FixedPointKind Kind, int Count)>();
        foreach (var cand in candidates.OrderBy(x => x.Q))
        {
            int at = kept.FindIndex(k => Vectors.Distance(k.H, cand.H) < options.DistinctDistance);
            if (at >= 0) kept[at] = kept[at] with { Count = kept[at].Count + 1 };
            else kept.Add((cand.H, cand.Q, cand.Kind, 1));
        }
        var points = kept.Select(k =>
        {
            var eigenvalues = Eigenvalues(weights, c, k.H);
            var radius = eigenvalues.Length == 0 ? 0 : eigenvalues[0].Magnitude;
            var stability = radius < 1 - options.MarginalTolerance ? Stability.Stable
                : radius > 1 + options.MarginalTolerance ? Stability.Unstable : Stability.Marginal;
            return new FixedPoint(ImmutableArray.Create(k.H), k.Q, eigenvalues, stability, k.Kind, k.Count);
        });
        return new FixedPointResult([.. points], starts.Count, dropped);
    }

    /// <summary>q(h) = ½‖tanh(W h + U o + b) − h‖², the "kinetic energy" minimised by <see cref="Find"/>.</summary>
    /// <param name="weights">The network.</param>
    /// <param name="input">o, length I.</param>
    /// <param name="h">A state, length H.</param>
    public static double KineticEnergy(TanhRnnWeights weights, double[] input, ReadOnlySpan<double> h)
    {
        var c = Drive(weights, input);
        if (h.Length != weights.Hidden) throw new ArgumentException($"has {h.Length} entries, the network {weights.Hidden} units", nameof(h));
        var (_, r) = Residual(weights, c, h);
        return 0.5 * Vectors.Dot(r, r);
    }

    /// <summary>The Jacobian of h ↦ tanh(W h + U o + b) at h: diag(1 − tanh²(a)) W, H × H row-major.</summary>
    /// <param name="weights">The network.</param>
    /// <param name="input">o, length I.</param>
    /// <param name="h">A state, length H.</param>
    public static ImmutableArray<double> Jacobian(TanhRnnWeights weights, double[] input, ReadOnlySpan<double> h)
    {
        var c = Drive(weights, input);
        if (h.Length != weights.Hidden) throw new ArgumentException($"has {h.Length} entries, the network {weights.Hidden} units", nameof(h));
        var (t, _) = Residual(weights, c, h);
        int H = weights.Hidden;
        var j = new double[H * H];
        for (int i = 0; i < H; i++)
            for (int k = 0; k < H; k++) j[i * H + k] = (1 - t[i] * t[i]) * weights.W(i, k);
        return ImmutableArray.Create(j);
    }

    /// <summary>c = U o + b: the constant part of the pre-activation.</summary>
    private static double[] Drive(TanhRnnWeights weights, double[] input)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(input);
        if (input.Length != weights.Inputs) throw new ArgumentException($"has {input.Length} entries, the network takes {weights.Inputs}", nameof(input));
        foreach (var v in input)
            if (!double.IsFinite(v)) throw new ArgumentException($"contains {v}", nameof(input));
        int H = weights.Hidden, I = weights.Inputs;
        var c = new double[H];
        for (int i = 0; i < H; i++)
        {
            double s = weights.Bias[i];
            for (int k = 0; k < I; k++) s += weights.InputWeights[i * I + k] * input[k];
            c[i] = s;
        }
        return c;
    }

    /// <summary>t = tanh(W h + c) and r = t − h.</summary>
    private static (double[] T, double[] R) Residual(TanhRnnWeights w, double[] c, ReadOnlySpan<double> h)
    {
        int H = w.Hidden;
        double[] t = new double[H], r = new double[H];
        for (int i = 0; i < H; i++)
        {
            double a = c[i];
            for (int k = 0; k < H; k++) a += w.W(i, k) * h[k];
            t[i] = Math.Tanh(a);
            r[i] = t[i] - h[i];
        }
        return (t, r);
    }

    /// <summary>J = diag(1 − t²) W − I, the Jacobian of the residual r.</summary>
    private static Matrix<double> ResidualJacobian(TanhRnnWeights w, double[] t) =>
        Matrix<double>.Build.Dense(w.Hidden, w.Hidden, (i, k) => (1 - t[i] * t[i]) * w.W(i, k) - (i == k ? 1 : 0));

    /// <summary>The exact Hessian of q: JᵀJ + Σᵢ rᵢ (−2 tᵢ (1 − tᵢ²)) wᵢ wᵢᵀ.</summary>
    private static Matrix<double> Hessian(TanhRnnWeights w, double[] t, double[] r, Matrix<double> j)
    {
        int H = w.Hidden;
        var hess = j.TransposeThisAndMultiply(j);
        for (int i = 0; i < H; i++)
        {
            var s = r[i] * -2 * t[i] * (1 - t[i] * t[i]);
            if (s == 0) continue;
            for (int a = 0; a < H; a++)
                for (int b = 0; b < H; b++) hess[a, b] += s * w.W(i, a) * w.W(i, b);
        }
        return hess;
    }

    /// <summary>Damped Newton descent on q: returns the last point, its q and its largest |∂q/∂h_i|.</summary>
    private static (double[] H, double Q, double Gradient) Minimise(TanhRnnWeights w, double[] c, double[] h, FixedPointOptions options)
    {
        int n = w.Hidden;
        var (t, r) = Residual(w, c, h);
        double q = 0.5 * Vectors.Dot(r, r), mu = 0;
        for (int iteration = 0; iteration < options.MaxIterations; iteration++)
        {
            var j = ResidualJacobian(w, t);
            var g = j.TransposeThisAndMultiply(Vector<double>.Build.Dense(r));
            if (g.InfinityNorm() <= options.GradientTolerance || q == 0) return (h, q, g.InfinityNorm());
            var hess = Hessian(w, t, r, j);
            var scale = Math.Max(1e-300, hess.Diagonal().PointwiseAbs().Maximum());
            bool improved = false;
            while (!improved)
            {
                Vector<double> step;
                var damped = hess + Matrix<double>.Build.DenseIdentity(n) * mu;
                try { step = damped.Cholesky().Solve(-g); }
                catch (ArgumentException) { mu = Math.Max(10 * mu, 1e-12 * scale); continue; }
                var trial = new double[n];
                for (int i = 0; i < n; i++) trial[i] = h[i] + step[i];
                var (tt, tr) = Residual(w, c, trial);
                var tq = 0.5 * Vectors.Dot(tr, tr);
                if (tq < q)
                {
                    (h, t, r, q, improved) = (trial, tt, tr, tq, true);
                    mu = mu < 1e-14 * scale ? 0 : mu / 10;
                }
                else
                {
                    // No decrease: the step is at the rounding of h (stalled) or too long (damp it).
                    if (step.InfinityNorm() <= 1e-15 * (1 + InfinityNorm(h))) return (h, q, g.InfinityNorm());
                    mu = Math.Max(10 * mu, 1e-12 * scale);
                }
            }
        }
        var (ft, fr) = Residual(w, c, h);
        return (h, q, ResidualJacobian(w, ft).TransposeThisAndMultiply(Vector<double>.Build.Dense(fr)).InfinityNorm());
    }

    /// <summary>Newton's method on r(h) = 0, each step kept only while it shrinks ‖r‖.</summary>
    private static (double[] H, double Q) Polish(TanhRnnWeights w, double[] c, double[] h, double q)
    {
        for (int iteration = 0; iteration < 20 && q > 0; iteration++)
        {
            var (t, r) = Residual(w, c, h);
            var j = ResidualJacobian(w, t);
            Vector<double> step;
            try { step = j.Solve(Vector<double>.Build.Dense(r).Negate()); }
            catch (ArgumentException) { break; }
            if (step.Any(v => !double.IsFinite(v))) break;
            var trial = new double[h.Length];
            for (int i = 0; i < h.Length; i++) trial[i] = h[i] + step[i];
            var (_, tr) = Residual(w, c, trial);
            var tq = 0.5 * Vectors.Dot(tr, tr);
            if (!(tq < q)) break;
            (h, q) = (trial, tq);
        }
        return (h, q);
    }

    /// <summary>Whether q's exact Hessian at h is positive semi-definite (up to rounding): a minimum, not a saddle or maximum.</summary>
    private static bool IsLocalMinimum(TanhRnnWeights w, double[] c, double[] h)
    {
        var (t, r) = Residual(w, c, h);
        var hess = Hessian(w, t, r, ResidualJacobian(w, t));
        var eigen = hess.Evd(Symmetricity.Symmetric).EigenValues.Select(v => v.Real).ToArray();
        return eigen.Min() >= -1e-9 * Math.Max(1, eigen.Max(Math.Abs));
    }

    private static ImmutableArray<Complex> Eigenvalues(TanhRnnWeights w, double[] c, double[] h)
    {
        var (t, _) = Residual(w, c, h);
        var jf = Matrix<double>.Build.Dense(w.Hidden, w.Hidden, (i, k) => (1 - t[i] * t[i]) * w.W(i, k));
        return [.. jf.Evd(Symmetricity.Asymmetric).EigenValues.OrderByDescending(v => v.Magnitude).ThenByDescending(v => v.Real).ThenByDescending(v => v.Imaginary)];
    }

    private static void CheckOptions(FixedPointOptions o)
    {
        if (!(o.FixedTolerance >= 0)) throw new ArgumentException($"FixedTolerance = {o.FixedTolerance} must be ≥ 0", "options");
        if (!(o.SlowTolerance >= o.FixedTolerance)) throw new ArgumentException($"SlowTolerance = {o.SlowTolerance} must be ≥ FixedTolerance = {o.FixedTolerance}", "options");
        if (!(o.GradientTolerance > 0)) throw new ArgumentException($"GradientTolerance = {o.GradientTolerance} must be > 0", "options");
        if (!(o.DistinctDistance > 0)) throw new ArgumentException($"DistinctDistance = {o.DistinctDistance} must be > 0", "options");
        if (!(o.MarginalTolerance >= 0)) throw new ArgumentException($"MarginalTolerance = {o.MarginalTolerance} must be ≥ 0", "options");
        if (o.MaxIterations < 1) throw new ArgumentException($"MaxIterations = {o.MaxIterations} must be ≥ 1", "options");
    }

    private static double InfinityNorm(double[] a) => a.Length == 0 ? 0 : a.Max(Math.Abs);

}
