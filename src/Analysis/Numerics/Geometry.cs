using System.Collections.Immutable;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace HmmRnn.Analysis.Numerics;

/// <summary>
/// Angles, subspace shares and per-step velocities of state vectors: the geometry the paper reads its
/// readouts with (Schaeffer et al. 2020, §3.2; SPEC B4: readout angle, share of the stimulus readout in
/// the PC plane, state velocity along a readout).
/// </summary>
public static class Geometry
{
    /// <summary>
    /// The angle between <paramref name="a"/> and <paramref name="b"/> in degrees, in [0, 180]; or, with
    /// <paramref name="asLines"/>, the angle between the lines they span, in [0, 90] (a readout and its
    /// negative are the same line). Computed as 2 atan2(‖â − b̂‖, ‖â + b̂‖), accurate near 0° and 180° too.
    /// </summary>
    /// <param name="a">A non-zero vector.</param>
    /// <param name="b">A non-zero vector of the same length.</param>
    /// <param name="asLines">Ignore the vectors' signs.</param>
    /// <exception cref="ArgumentException">Different lengths, an empty, zero or non-finite vector.</exception>
    public static double AngleDegrees(ReadOnlySpan<double> a, ReadOnlySpan<double> b, bool asLines = false)
    {
        if (b.Length != a.Length) throw new ArgumentException($"has {b.Length} entries, a has {a.Length}", nameof(b));
        double na = Norm(a, nameof(a)), nb = Norm(b, nameof(b));
        double minus = 0, plus = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double u = a[i] / na, v = b[i] / nb;
            minus += (u - v) * (u - v);
            plus += (u + v) * (u + v);
        }
        var degrees = 2 * Math.Atan2(Math.Sqrt(minus), Math.Sqrt(plus)) * 180 / Math.PI;
        return asLines ? Math.Min(degrees, 180 - degrees) : degrees;
    }

    /// <summary>
    /// The share of <paramref name="v"/>'s squared length that lies in the span of <paramref name="basis"/>:
    /// ‖projection of v onto span(basis)‖² / ‖v‖², in [0, 1]. The basis need not be orthonormal (it is
    /// orthonormalised by a QR decomposition), but its vectors must be linearly independent.
    /// </summary>
    /// <param name="v">A non-zero vector.</param>
    /// <param name="basis">One or more vectors of v's length (e.g. the top two principal components).</param>
    /// <exception cref="ArgumentException">A zero or non-finite v, no basis, vectors of the wrong length, more vectors than dimensions, or dependent vectors.</exception>
    public static double ShareInSubspace(ReadOnlySpan<double> v, IReadOnlyList<ImmutableArray<double>> basis)
    {
        ArgumentNullException.ThrowIfNull(basis);
        var nv = Norm(v, nameof(v));
        int d = v.Length, k = basis.Count;
        if (k == 0) throw new ArgumentException("needs at least one vector", nameof(basis));
        if (k > d) throw new ArgumentException($"{k} vectors in {d} dimensions cannot be independent", nameof(basis));
        for (int c = 0; c < k; c++)
        {
            if (basis[c].IsDefault || basis[c].Length != d) throw new ArgumentException($"vector {c} has {(basis[c].IsDefault ? 0 : basis[c].Length)} entries, v has {d}", nameof(basis));
            foreach (var x in basis[c])
                if (!double.IsFinite(x)) throw new ArgumentException($"vector {c} contains {x}", nameof(basis));
        }
        var m = Matrix<double>.Build.Dense(d, k, (i, c) => basis[c][i]);
        var qr = m.QR(QRMethod.Thin);
        var diag = qr.R.Diagonal().PointwiseAbs();
        var scale = m.ColumnNorms(2).Maximum();
        if (diag.Minimum() <= 1e-12 * scale)
            throw new ArgumentException($"the {k} vectors are linearly dependent (vector {diag.MinimumIndex()} lies in the span of those before it)", nameof(basis));
        double inside = 0;
        for (int c = 0; c < k; c++)
        {
            double s = 0;
            for (int i = 0; i < d; i++) s += qr.Q[i, c] * v[i] / nv;
            inside += s * s;
        }
        return Math.Clamp(inside, 0, 1);
    }

    /// <summary>
    /// The velocity along a direction: Δ_t = r · h_t − r · h_(t−1) for t = 1 … T − 1, one value per
    /// consecutive pair of states. The direction is used as given (not normalised), so a readout row
    /// gives the change of that readout's logit per step.
    /// </summary>
    /// <param name="states">h_0 … h_(T−1), at least two, each of the direction's length.</param>
    /// <param name="direction">r, e.g. the stimulus or block readout.</param>
    /// <exception cref="ArgumentException">Fewer than two states, an empty direction, or a state of the wrong length.</exception>
    public static ImmutableArray<double> VelocityAlong(IReadOnlyList<ImmutableArray<double>> states, ReadOnlySpan<double> direction)
    {
        ArgumentNullException.ThrowIfNull(states);
        if (direction.IsEmpty) throw new ArgumentException("is empty", nameof(direction));
        if (states.Count < 2) throw new ArgumentException($"needs at least 2 states, got {states.Count}", nameof(states));
        var along = new double[states.Count];
        for (int t = 0; t < states.Count; t++)
        {
            if (states[t].IsDefault || states[t].Length != direction.Length)
                throw new ArgumentException($"state {t} has {(states[t].IsDefault ? 0 : states[t].Length)} entries, the direction {direction.Length}", nameof(states));
            double s = 0;
            for (int i = 0; i < direction.Length; i++) s += direction[i] * states[t][i];
            along[t] = s;
        }
        var velocity = new double[states.Count - 1];
        for (int t = 1; t < along.Length; t++) velocity[t - 1] = along[t] - along[t - 1];
        return ImmutableArray.Create(velocity);
    }

    private static double Norm(ReadOnlySpan<double> x, string name)
    {
        if (x.IsEmpty) throw new ArgumentException("is empty", name);
        double max = 0;
        foreach (var v in x)
        {
            if (!double.IsFinite(v)) throw new ArgumentException($"contains {v}", name);
            max = Math.Max(max, Math.Abs(v));
        }
        if (max == 0) throw new ArgumentException("is the zero vector (no direction)", name);
        double s = 0;
        foreach (var v in x) s += (v / max) * (v / max);
        return max * Math.Sqrt(s);
    }
}
