using System.Collections.Immutable;
using HmmRnn.Analysis.Numerics;
using HmmRnn.Core;
using HmmRnn.Core.Rnn;
using MathNet.Numerics.LinearAlgebra;

namespace HmmRnn.Analysis.Dynamics;

/// <summary>The kick direction of one kind of transition.</summary>
/// <param name="From">The symbol of the slow run left.</param>
/// <param name="To">The symbol entered.</param>
/// <param name="Exits">Exits of this kind from runs of ≥ MinDwell steps.</param>
/// <param name="Direction">u, unit norm: μ_exit − μ_slow (the mean state in the Window steps before these exits minus the mean state inside slow runs of <paramref name="From"/>), its part along the readout rows removed.</param>
/// <param name="Separation">d′ of the two classes along u: (μ_exit − μ_slow)·u / √(uᵀ Σ u) with Σ the covariance of all states.</param>
public sealed record TransitionDirection(int From, int To, int Exits, ImmutableArray<double> Direction, double Separation);

/// <summary>The kick subspace of a network and what projecting it out does.</summary>
/// <param name="Window">Steps before an exit that count as the exit's states.</param>
/// <param name="Directions">One direction per kind of transition with at least the minimum number of exits.</param>
/// <param name="Dimension">k, the dimension of the subspace they span (the one projected out).</param>
/// <param name="VarianceShare">The share of the state variance inside the subspace (random k-dimensional subspaces: k / H on average, less the readout's part).</param>
/// <param name="IntactRate">Symbol changes per step of the intact network on fresh noise.</param>
/// <param name="AblatedRate">The same with the state's coordinates in the subspace held at their mean after every step (mean ablation, h ← h − U (Uᵀ h − Uᵀ μ)).</param>
/// <param name="RandomRates">
/// The same for random k-dimensional subspaces orthogonal to the readout rows and to the tested subspace, mean-ablated likewise
/// (as the kick units' control sets are drawn from the other units: a control that overlaps the tested directions would do
/// part of their work and hide their role).
/// </param>
/// <param name="PValue">(1 + #{random rate ≤ ablated rate}) / (1 + random subspaces): one-sided, fewer changes; NaN where the network has too few units for controls (fewer than 2k outside the readout).</param>
public sealed record KickDirectionResult(int Window, ImmutableArray<TransitionDirection> Directions, int Dimension, double VarianceShare,
    double IntactRate, double AblatedRate, ImmutableArray<double> RandomRates, double PValue)
{
    /// <summary>
    /// The median variance share of the random subspaces: far below <see cref="VarianceShare"/>, the directions' effect may be
    /// that of removing much of the state's variance, which the random subspaces do not (a caution the p-value cannot carry).
    /// </summary>
    public double RandomVarianceShare { get; init; } = double.NaN;

    /// <summary>
    /// Symbol changes per step with the k leading principal directions of the states (orthogonal to the readout) mean-ablated
    /// instead: the highest-variance subspace of the kick subspace's dimension. Near <see cref="AblatedRate"/>, the kick
    /// directions do what any dominant directions would.
    /// </summary>
    public double PrincipalRate { get; init; } = double.NaN;

    /// <summary>The variance share of that principal subspace.</summary>
    public double PrincipalVarianceShare { get; init; } = double.NaN;

    /// <summary>(ablated − intact) / intact: −1 when projecting the subspace out stops all switching.</summary>
    public double RelativeChange => IntactRate > 0 ? (AblatedRate - IntactRate) / IntactRate : double.NaN;
}

/// <summary>
/// Kick units, asked of a direction instead (issue 19 item 2): where no single unit rises before transitions, the push may be
/// spread over many units. The direction in which the state moves before an exit from a slow run (the mean of the states just
/// before exits minus the mean of the states inside slow runs) is tested as the kick units are: removed from the state at
/// every step of a fresh noisy run, against random directions.
/// </summary>
/// <remarks>
/// Not the discriminant Σ⁻¹ (μ_exit − μ_slow): on the planted-kick network it put its largest weights on contrasts inside a
/// pool (low variance, noise-fitted) rather than on the kick units, which the mean difference recovers. Random directions are
/// uniform on the sphere; directions shaped like the state covariance would mostly remove the pool contrast that defines the
/// symbols, which stops switching whatever the direction (p = 0.08 for the planted kick direction against 49 of them).
/// </remarks>
public static class KickDirection
{
    /// <summary>Fits the directions on a run and tests their span by projection.</summary>
    /// <param name="weights">The network.</param>
    /// <param name="states">h_t of a noise-driven run.</param>
    /// <param name="symbols">The symbols emitted along it.</param>
    /// <param name="steps">Steps of the ablation runs.</param>
    /// <param name="sigma">The noise's standard deviation.</param>
    /// <param name="randomSubspaces">Control subspaces (≥ 1).</param>
    /// <param name="rng">The ablation noise and the control subspaces.</param>
    /// <param name="options">MinDwell and Window as for kick units.</param>
    /// <param name="episodeLength">0: one run; L &gt; 0: restart from h = 0 every L steps.</param>
    /// <param name="minExits">Kinds of transition with fewer exits get no direction.</param>
    /// <returns>null when no kind of transition has enough exits (nothing to fit).</returns>
    public static KickDirectionResult? Test(ReluRnnWeights weights, IReadOnlyList<ImmutableArray<double>> states, IReadOnlyList<int> symbols, int steps, double sigma,
        int randomSubspaces, Rng rng, KickOptions? options = null, int episodeLength = 0, int minExits = 5)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(states);
        ArgumentNullException.ThrowIfNull(symbols);
        options ??= KickOptions.Default;
        if (states.Count != symbols.Count) throw new ArgumentException($"{symbols.Count} symbols for {states.Count} states", nameof(symbols));
        if (steps < 2) throw new ArgumentOutOfRangeException(nameof(steps), steps, "must be ≥ 2");
        if (randomSubspaces < 1) throw new ArgumentOutOfRangeException(nameof(randomSubspaces), randomSubspaces, "must be ≥ 1");
        int H = weights.Hidden;
        var (mean, covariance) = SampleMoments.Of(states, nameof(states), "step", "units");
        var sigmaMatrix = Matrix<double>.Build.Dense(H, H, (i, j) => covariance[i * H + j]);

        // Orthogonal to the readout rows: a direction along them changes the emitted symbol by itself (it codes the symbol
        // rather than pushing toward a transition), and removing it would stop switching whatever else it does.
        var readout = Matrix<double>.Build.Dense(weights.Outputs, H, (o, j) => weights.Readout[o * H + j]);
        var rowSpace = readout.Transpose().QR().Q.SubMatrix(0, H, 0, Math.Min(weights.Outputs, H));
        Vector<double> Orthogonal(Vector<double> v) => v - rowSpace * (rowSpace.Transpose() * v);

        // Exits whose run is longer than the window, so that the window's states are the run's own and its slow part is not empty.
        var exits = KickUnits.Exits(symbols, options).Where(e => e.At - e.Start > options.Window).ToList();
        var directions = new List<TransitionDirection>();
        foreach (var kind in exits.GroupBy(e => (e.From, e.To)).Where(g => g.Count() >= minExits).OrderBy(g => g.Key.From).ThenBy(g => g.Key.To))
        {
            var before = kind.SelectMany(e => Enumerable.Range(e.At - options.Window, options.Window)).ToList();
            var slow = exits.Where(e => e.From == kind.Key.From).SelectMany(e => Enumerable.Range(e.Start, e.At - options.Window - e.Start)).ToList();
            if (slow.Count == 0) continue;
            var difference = Vector<double>.Build.Dense(H, i => before.Average(t => states[t][i]) - slow.Average(t => states[t][i]));
            var u = Orthogonal(difference);
            if (u.L2Norm() < 1e-12 * Math.Max(1, difference.L2Norm())) continue;
            u /= u.L2Norm();
            double along = u * (sigmaMatrix * u);
            directions.Add(new TransitionDirection(kind.Key.From, kind.Key.To, kind.Count(), [.. u], along > 0 ? difference * u / Math.Sqrt(along) : double.NaN));
        }
        if (directions.Count == 0) return null;
        var basis = Basis(directions.Select(d => Vector<double>.Build.DenseOfEnumerable(d.Direction)));
        int k = basis.ColumnCount;
        var trace = sigmaMatrix.Trace();
        var share = trace > 0 ? (basis.Transpose() * sigmaMatrix * basis).Trace() / trace : double.NaN;

        (rng, var draws) = rng.Split();
        // Controls need k directions outside the readout and the tested span: a network too small for that gets none (p NaN).
        var controls = new Matrix<double>[H - rowSpace.ColumnCount - k >= k ? randomSubspaces : 0];
        for (int r = 0; r < controls.Length; r++)
        {
            var vectors = Enumerable.Range(0, k).Select(c =>
            {
                var g = new double[H];
                draws.Substream(r).Substream(c).FillNormal(g);
                var v = Orthogonal(Vector<double>.Build.DenseOfArray(g));
                return v - basis * (basis.Transpose() * v);
            });
            controls[r] = Basis(vectors);
        }
        var noise = DrivingNoise.Draw(steps, weights.Input, sigma, rng);
        var random = new double[controls.Length];
        Parallel.For(0, controls.Length, r => random[r] = KickUnits.ChangeRate(weights, noise, Projector(controls[r], mean), episodeLength));
        var ablated = KickUnits.ChangeRate(weights, noise, Projector(basis, mean), episodeLength);
        var intact = KickUnits.ChangeRate(weights, noise, _ => { }, episodeLength);
        var p = controls.Length == 0 ? double.NaN : (1.0 + random.Count(x => x <= ablated)) / (1.0 + controls.Length);
        var projector = Matrix<double>.Build.DenseIdentity(H) - rowSpace * rowSpace.Transpose();
        var outside = (projector * sigmaMatrix * projector).Evd(Symmetricity.Symmetric);
        var leading = Enumerable.Range(0, H).OrderByDescending(i => outside.EigenValues[i].Real).Take(k).ToArray();
        var principal = Matrix<double>.Build.Dense(H, k, (i, c) => outside.EigenVectors[i, leading[c]]);
        var principalRate = KickUnits.ChangeRate(weights, noise, Projector(principal, mean), episodeLength);
        var randomShares = controls.Select(c => trace > 0 ? (c.Transpose() * sigmaMatrix * c).Trace() / trace : double.NaN).Order().ToArray();
        return new KickDirectionResult(options.Window, [.. directions], k, share, intact, ablated, [.. random], p)         {
            RandomVarianceShare = randomShares.Length == 0 ? double.NaN : randomShares[randomShares.Length / 2], PrincipalRate = principalRate,
            PrincipalVarianceShare = trace > 0 ? (principal.Transpose() * sigmaMatrix * principal).Trace() / trace : double.NaN,
        };
    }

    /// <summary>An orthonormal basis (columns) of the span of <paramref name="vectors"/> (Gram–Schmidt, near-dependent ones dropped).</summary>
    private static Matrix<double> Basis(IEnumerable<Vector<double>> vectors)
    {
        var kept = new List<Vector<double>>();
        foreach (var v in vectors)
        {
            var w = v.Clone();
            foreach (var q in kept) w -= (q * w) * q;
            if (w.L2Norm() > 1e-8 * Math.Max(1, v.L2Norm())) kept.Add(w / w.L2Norm());
        }
        return Matrix<double>.Build.DenseOfColumnVectors(kept);
    }

    /// <summary>
    /// Mean ablation of a subspace: the state's coordinates along the basis are held at the run's mean coordinates,
    /// h ← h − U (Uᵀ h − Uᵀ μ). Not zero ablation (h ← h − U Uᵀ h): in a network of non-negative units that shifts every unit
    /// the basis touches by a constant, and random directions then stopped switching as often as the kick directions did.
    /// </summary>
    private static Action<double[]> Projector(Matrix<double> basis, double[] mean)
    {
        var columns = Enumerable.Range(0, basis.ColumnCount).Select(c => basis.Column(c).ToArray()).ToArray();
        var centre = columns.Select(u => u.Select((x, i) => x * mean[i]).Sum()).ToArray();
        return h =>
        {
            for (int c = 0; c < columns.Length; c++)
            {
                var u = columns[c];
                double along = -centre[c];
                for (int i = 0; i < h.Length; i++) along += u[i] * h[i];
                for (int i = 0; i < h.Length; i++) h[i] -= along * u[i];
            }
        };
    }
}
