using System.Collections.Immutable;
using HmmRnn.Analysis.Numerics;
using HmmRnn.Core.Rnn;

namespace HmmRnn.Analysis.Dynamics;

/// <summary>A point of a <see cref="StatePlane"/> in the plane's coordinates.</summary>
/// <param name="Z1">The coordinate along the first axis.</param>
/// <param name="Z2">The coordinate along the second axis.</param>
public readonly record struct PlanePoint(double Z1, double Z2);

/// <summary>
/// A 2-D plane in state space, h = origin + z₁ a₁ + z₂ a₂, with orthonormal axes a₁, a₂ (e.g. the PCA
/// mean and the top two principal components: <see cref="FromPca"/>).
/// </summary>
public sealed record StatePlane
{
    /// <summary>Checks that the three vectors have the same length, are finite, and that the axes are orthonormal (within 1e-9).</summary>
    /// <param name="origin">The point at z = (0, 0).</param>
    /// <param name="axis1">a₁, unit length.</param>
    /// <param name="axis2">a₂, unit length and orthogonal to a₁.</param>
    public StatePlane(ImmutableArray<double> origin, ImmutableArray<double> axis1, ImmutableArray<double> axis2)
    {
        if (origin.IsDefaultOrEmpty) throw new ArgumentException("is empty", nameof(origin));
        Check(origin, origin.Length, nameof(origin));
        Check(axis1, origin.Length, nameof(axis1));
        Check(axis2, origin.Length, nameof(axis2));
        double n1 = 0, n2 = 0, dot = 0;
        for (int i = 0; i < origin.Length; i++) { n1 += axis1[i] * axis1[i]; n2 += axis2[i] * axis2[i]; dot += axis1[i] * axis2[i]; }
        if (Math.Abs(n1 - 1) > 1e-9) throw new ArgumentException($"has squared length {n1}, not 1", nameof(axis1));
        if (Math.Abs(n2 - 1) > 1e-9) throw new ArgumentException($"has squared length {n2}, not 1", nameof(axis2));
        if (Math.Abs(dot) > 1e-9) throw new ArgumentException($"is not orthogonal to axis1 (dot product {dot})", nameof(axis2));
        (Origin, Axis1, Axis2) = (origin, axis1, axis2);
    }

    /// <summary>The plane through the PCA mean spanned by the first two principal components.</summary>
    /// <param name="pca">A PCA with at least two components.</param>
    public static StatePlane FromPca(PcaResult pca)
    {
        ArgumentNullException.ThrowIfNull(pca);
        if (pca.Components.Length < 2) throw new ArgumentException($"has {pca.Components.Length} component(s); a plane needs 2", nameof(pca));
        return new StatePlane(pca.Mean, pca.Components[0], pca.Components[1]);
    }

    /// <summary>The point at z = (0, 0).</summary>
    public ImmutableArray<double> Origin { get; }
    /// <summary>a₁.</summary>
    public ImmutableArray<double> Axis1 { get; }
    /// <summary>a₂.</summary>
    public ImmutableArray<double> Axis2 { get; }
    /// <summary>The dimension of the state space.</summary>
    public int Dimension => Origin.Length;

    /// <summary>origin + z₁ a₁ + z₂ a₂.</summary>
    /// <param name="z1">The coordinate along a₁.</param>
    /// <param name="z2">The coordinate along a₂.</param>
    public double[] Embed(double z1, double z2)
    {
        var h = new double[Dimension];
        for (int i = 0; i < h.Length; i++) h[i] = Origin[i] + z1 * Axis1[i] + z2 * Axis2[i];
        return h;
    }

    /// <summary>The plane coordinates of h's orthogonal projection: ((h − origin) · a₁, (h − origin) · a₂).</summary>
    /// <param name="h">A state of the plane's dimension.</param>
    public PlanePoint Project(ReadOnlySpan<double> h)
    {
        if (h.Length != Dimension) throw new ArgumentException($"has {h.Length} entries, the plane lies in {Dimension} dimensions", nameof(h));
        double z1 = 0, z2 = 0;
        for (int i = 0; i < h.Length; i++)
        {
            var d = h[i] - Origin[i];
            z1 += d * Axis1[i];
            z2 += d * Axis2[i];
        }
        return new PlanePoint(z1, z2);
    }

    private static void Check(ImmutableArray<double> v, int length, string name)
    {
        if (v.IsDefault || v.Length != length) throw new ArgumentException($"has {(v.IsDefault ? 0 : v.Length)} entries, the origin {length}", name);
        foreach (var x in v)
            if (!double.IsFinite(x)) throw new ArgumentException($"contains {x}", name);
    }

    /// <inheritdoc />
    public bool Equals(StatePlane? other) =>
        other is not null && Origin.AsSpan().SequenceEqual(other.Origin.AsSpan()) && Axis1.AsSpan().SequenceEqual(other.Axis1.AsSpan())
        && Axis2.AsSpan().SequenceEqual(other.Axis2.AsSpan());

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Dimension, Origin[0], Axis1[0], Axis2[0]);
}

/// <summary>
/// Equally spaced grid values Min, Min + Spacing, …, Max along one axis of a plane. Each value is the
/// centre of a cell [value − Spacing / 2, value + Spacing / 2) (see <see cref="FlowField.MaskVisited"/>).
/// </summary>
/// <param name="Min">The first value.</param>
/// <param name="Max">The last value, above Min.</param>
/// <param name="Count">The number of values, at least 2.</param>
public sealed record GridAxis(double Min, double Max, int Count)
{
    /// <summary>The grid axis; checks Min &lt; Max, both finite, and Count ≥ 2.</summary>
    public double Min { get; } = double.IsFinite(Min) ? Min : throw new ArgumentOutOfRangeException(nameof(Min), Min, "must be finite");
    /// <summary>The last value.</summary>
    public double Max { get; } = double.IsFinite(Max) && Max > Min ? Max : throw new ArgumentOutOfRangeException(nameof(Max), Max, $"must be finite and above Min = {Min}");
    /// <summary>The number of values.</summary>
    public int Count { get; } = Count >= 2 ? Count : throw new ArgumentOutOfRangeException(nameof(Count), Count, "must be at least 2");

    /// <summary>(Max − Min) / (Count − 1).</summary>
    public double Spacing => (Max - Min) / (Count - 1);

    /// <summary>The i-th value, Min + i · Spacing.</summary>
    /// <param name="i">0 … Count − 1.</param>
    public double Value(int i) => i >= 0 && i < Count ? (i == Count - 1 ? Max : Min + i * Spacing) : throw new ArgumentOutOfRangeException(nameof(i), i, $"must be in [0, {Count})");

    /// <summary>The index of the cell holding <paramref name="z"/>, or −1 when z lies outside every cell.</summary>
    /// <param name="z">A coordinate along this axis.</param>
    public int CellOf(double z)
    {
        var i = Math.Floor((z - Min) / Spacing + 0.5);
        return i >= 0 && i < Count ? (int)i : -1;
    }

    /// <summary>
    /// A grid spanning the values' range widened by <paramref name="margin"/> × that range on each side
    /// (e.g. the projected trajectory's coordinates along one axis).
    /// </summary>
    /// <param name="values">At least one finite value.</param>
    /// <param name="count">The number of grid values, at least 2.</param>
    /// <param name="margin">The widening on each side as a fraction of the range, ≥ 0 (a zero range widens by ±margin instead).</param>
    public static GridAxis Covering(IEnumerable<double> values, int count, double margin = 0.1)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (!(margin >= 0 && double.IsFinite(margin))) throw new ArgumentOutOfRangeException(nameof(margin), margin, "must be finite and ≥ 0");
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (var v in values)
        {
            if (!double.IsFinite(v)) throw new ArgumentException($"contains {v}", nameof(values));
            (min, max) = (Math.Min(min, v), Math.Max(max, v));
        }
        if (min > max) throw new ArgumentException("is empty", nameof(values));
        var pad = max > min ? margin * (max - min) : Math.Max(margin, 1e-12);
        return new GridAxis(min - pad, max + pad, count);
    }
}

/// <summary>
/// A flow field of a map F on a grid of a plane: at each node h = origin + z₁ a₁ + z₂ a₂, the
/// displacement F(h) − h projected onto a₁ and a₂. Arrays are indexed [j · Along1.Count + i] for the
/// node (Along1.Value(i), Along2.Value(j)).
/// </summary>
/// <param name="Plane">The plane.</param>
/// <param name="Along1">The grid values along a₁.</param>
/// <param name="Along2">The grid values along a₂.</param>
/// <param name="Displacement1">(F(h) − h) · a₁ per node.</param>
/// <param name="Displacement2">(F(h) − h) · a₂ per node.</param>
/// <param name="Speed">The length of the projected displacement per node (what the arrows show).</param>
/// <param name="FullSpeed">‖F(h) − h‖ in the whole state space per node (≥ Speed; the gap is the motion out of the plane).</param>
/// <param name="Mask">Per node, whether it is kept: all true from <see cref="FlowField.Compute(Func{double[], double[]}, StatePlane, GridAxis, GridAxis)"/>; see <see cref="FlowField.MaskVisited"/>.</param>
public sealed record FlowFieldResult(StatePlane Plane, GridAxis Along1, GridAxis Along2, ImmutableArray<double> Displacement1,
    ImmutableArray<double> Displacement2, ImmutableArray<double> Speed, ImmutableArray<double> FullSpeed, ImmutableArray<bool> Mask);

/// <summary>
/// Flow fields of a recurrent map in a 2-D plane of its state space (Schaeffer et al. 2020, Fig. 6;
/// SPEC B4: six input conditions), as data for a plot.
/// </summary>
public static class FlowField
{
    /// <summary>The flow field of an arbitrary map F: ℝᴴ → ℝᴴ.</summary>
    /// <param name="map">F; called once per grid node with a fresh array, must return H finite values.</param>
    /// <param name="plane">The plane, of dimension H.</param>
    /// <param name="along1">Grid values along a₁.</param>
    /// <param name="along2">Grid values along a₂.</param>
    /// <exception cref="ArgumentException">The map returns a vector of the wrong length or a non-finite value.</exception>
    public static FlowFieldResult Compute(Func<double[], double[]> map, StatePlane plane, GridAxis along1, GridAxis along2)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(plane);
        ArgumentNullException.ThrowIfNull(along1);
        ArgumentNullException.ThrowIfNull(along2);
        int n1 = along1.Count, n2 = along2.Count, H = plane.Dimension;
        double[] d1 = new double[n1 * n2], d2 = new double[n1 * n2], speed = new double[n1 * n2], full = new double[n1 * n2];
        for (int j = 0; j < n2; j++)
            for (int i = 0; i < n1; i++)
            {
                var h = plane.Embed(along1.Value(i), along2.Value(j));
                var f = map((double[])h.Clone()) ?? throw new ArgumentException("returned null", nameof(map));
                if (f.Length != H) throw new ArgumentException($"returned {f.Length} values for a state of {H}", nameof(map));
                double p1 = 0, p2 = 0, all = 0;
                for (int k = 0; k < H; k++)
                {
                    var d = f[k] - h[k];
                    if (!double.IsFinite(d)) throw new ArgumentException($"returned {f[k]} at ({along1.Value(i)}, {along2.Value(j)})", nameof(map));
                    p1 += d * plane.Axis1[k];
                    p2 += d * plane.Axis2[k];
                    all += d * d;
                }
                int at = j * n1 + i;
                (d1[at], d2[at], speed[at], full[at]) = (p1, p2, Math.Sqrt(p1 * p1 + p2 * p2), Math.Sqrt(all));
            }
        return new FlowFieldResult(plane, along1, along2, ImmutableArray.Create(d1), ImmutableArray.Create(d2), ImmutableArray.Create(speed),
            ImmutableArray.Create(full), [.. Enumerable.Repeat(true, n1 * n2)]);
    }

    /// <summary>The flow field of a tanh RNN under a constant input: F(h) = tanh(W_rec h + W_in o + b).</summary>
    /// <param name="weights">The network; its hidden size must be the plane's dimension.</param>
    /// <param name="input">o, held fixed (length I), e.g. (L, R, feedback) = (0, 0, −0.05).</param>
    /// <param name="plane">The plane.</param>
    /// <param name="along1">Grid values along a₁.</param>
    /// <param name="along2">Grid values along a₂.</param>
    public static FlowFieldResult Compute(TanhRnnWeights weights, double[] input, StatePlane plane, GridAxis along1, GridAxis along2)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(plane);
        if (input.Length != weights.Inputs) throw new ArgumentException($"has {input.Length} entries, the network takes {weights.Inputs}", nameof(input));
        if (plane.Dimension != weights.Hidden) throw new ArgumentException($"lies in {plane.Dimension} dimensions, the network has {weights.Hidden} units", nameof(plane));
        var o = (double[])input.Clone();
        return Compute(h => TanhRnn.Step(weights, h, o), plane, along1, along2);
    }

    /// <summary>
    /// Keeps only the nodes whose cell holds at least <paramref name="minVisits"/> of the points (the
    /// projections of the states a trajectory visited, e.g. via <see cref="StatePlane.Project"/>), so that
    /// a plot shows the flow only where the network actually goes. A node's cell is the rectangle
    /// [z₁ − Δ₁/2, z₁ + Δ₁/2) × [z₂ − Δ₂/2, z₂ + Δ₂/2) around it (Δ the grid spacings); points outside
    /// every cell count for none.
    /// </summary>
    /// <param name="field">A flow field.</param>
    /// <param name="points">Projected trajectory points.</param>
    /// <param name="minVisits">Points a cell needs to be kept, at least 1.</param>
    public static FlowFieldResult MaskVisited(FlowFieldResult field, IReadOnlyList<PlanePoint> points, int minVisits = 1)
    {
        ArgumentNullException.ThrowIfNull(field);
        ArgumentNullException.ThrowIfNull(points);
        if (minVisits < 1) throw new ArgumentOutOfRangeException(nameof(minVisits), minVisits, "must be at least 1");
        int n1 = field.Along1.Count;
        var visits = new int[n1 * field.Along2.Count];
        foreach (var p in points)
        {
            int i = field.Along1.CellOf(p.Z1), j = field.Along2.CellOf(p.Z2);
            if (i >= 0 && j >= 0) visits[j * n1 + i]++;
        }
        return field with { Mask = [.. visits.Select(v => v >= minVisits)] };
    }
}
