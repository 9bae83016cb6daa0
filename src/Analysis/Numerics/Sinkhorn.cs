namespace HmmRnn.Analysis.Numerics;

/// <summary>Parameters of the Sinkhorn divergence (geomloss's <c>SamplesLoss("sinkhorn", p=2, blur, scaling)</c>).</summary>
/// <param name="Blur">Target blur σ; ε = σ² (paper 0.2).</param>
/// <param name="Scaling">ε-scaling ratio per annealing step, applied to σ (paper 0.5).</param>
public sealed record SinkhornOptions(double Blur = 0.2, double Scaling = 0.5)
{
    /// <summary>The paper's setting (Torre et al. 2025; SPEC A3).</summary>
    public static SinkhornOptions Paper { get; } = new();

    /// <summary>
    /// The annealing schedule of ε for point clouds of the given diameter: diameter², then
    /// exp(k · 2 log scaling) from 2 log diameter down to (not including) 2 log blur, then blur².
    /// </summary>
    public IReadOnlyList<double> Epsilons(double diameter)
    {
        if (!(Blur > 0)) throw new ArgumentOutOfRangeException(nameof(Blur), Blur, "must be > 0");
        if (!(Scaling > 0 && Scaling < 1)) throw new ArgumentOutOfRangeException(nameof(Scaling), Scaling, "must be in (0, 1)");
        diameter = Math.Max(diameter, Blur);
        var list = new List<double> { diameter * diameter };
        double start = 2 * Math.Log(diameter), stop = 2 * Math.Log(Blur), step = 2 * Math.Log(Scaling);
        for (var e = start; e > stop; e += step) list.Add(Math.Exp(e));
        list.Add(Blur * Blur);
        return list;
    }
}

/// <summary>The Sinkhorn results between two point clouds.</summary>
/// <param name="Divergence">The debiased Sinkhorn divergence S_ε(x, y) = OT_ε(x, y) − ½OT_ε(x, x) − ½OT_ε(y, y) (≥ 0; 0 for x = y).</param>
/// <param name="MatchedDistance">Σ_ij π_ij ‖x_i − y_j‖ under the entropic transport plan π of OT_ε(x, y): the mean Euclidean distance between matched points.</param>
public sealed record SinkhornResult(double Divergence, double MatchedDistance);

/// <summary>
/// The debiased Sinkhorn divergence with uniform weights and cost ½‖x − y‖², in the log domain
/// with symmetric (averaged) updates and ε-annealing, as in geomloss (Feydy et al. 2019). Double
/// precision on the CPU: the evaluation metric, and the oracle for the training host's tensor loss.
/// </summary>
public static class Sinkhorn
{
    /// <summary>
    /// Divergence and matched distance between x (n × dim) and y (m × dim), row-major.
    /// </summary>
    public static SinkhornResult Compute(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int dim, SinkhornOptions? options = null)
    {
        options ??= SinkhornOptions.Paper;
        if (dim <= 0) throw new ArgumentOutOfRangeException(nameof(dim), dim, "must be positive");
        if (x.IsEmpty || x.Length % dim != 0) throw new ArgumentException($"x: {x.Length} values is not a non-empty whole number of points of dimension {dim}", nameof(x));
        if (y.IsEmpty || y.Length % dim != 0) throw new ArgumentException($"y: {y.Length} values is not a non-empty whole number of points of dimension {dim}", nameof(y));
        int n = x.Length / dim, m = y.Length / dim;
        double[] xa = x.ToArray(), ya = y.ToArray();
        var cxy = Cost(xa, ya, dim);
        var cyx = Transpose(cxy, n, m);
        var cxx = Cost(xa, xa, dim);
        var cyy = Cost(ya, ya, dim);
        var aLog = Fill(n, -Math.Log(n));
        var bLog = Fill(m, -Math.Log(m));
        var eps = options.Epsilons(Diameter(xa, ya, dim));

        var e0 = eps[0];
        var gAb = SoftMin(e0, cyx, m, n, aLog, null);
        var fBa = SoftMin(e0, cxy, n, m, bLog, null);
        var fAa = SoftMin(e0, cxx, n, n, aLog, null);
        var gBb = SoftMin(e0, cyy, m, m, bLog, null);
        foreach (var e in eps)
        {
            var ftBa = SoftMin(e, cxy, n, m, bLog, gAb);
            var gtAb = SoftMin(e, cyx, m, n, aLog, fBa);
            var ftAa = SoftMin(e, cxx, n, n, aLog, fAa);
            var gtBb = SoftMin(e, cyy, m, m, bLog, gBb);
            Average(fBa, ftBa);
            Average(gAb, gtAb);
            Average(fAa, ftAa);
            Average(gBb, gtBb);
        }
        // Final extrapolation at the last ε, both sides from the same (old) potentials.
        var eL = eps[^1];
        var f = SoftMin(eL, cxy, n, m, bLog, gAb);
        var g = SoftMin(eL, cyx, m, n, aLog, fBa);
        var fa = SoftMin(eL, cxx, n, n, aLog, fAa);
        var gb = SoftMin(eL, cyy, m, m, bLog, gBb);
        double divergence = 0;
        for (int i = 0; i < n; i++) divergence += (f[i] - fa[i]) / n;
        for (int j = 0; j < m; j++) divergence += (g[j] - gb[j]) / m;

        // π_ij = a_i b_j exp((f_i + g_j − C_ij) / ε), normalised (it sums to 1 up to convergence).
        double mass = 0, distance = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
            {
                var p = Math.Exp((f[i] + g[j] - cxy[i * m + j]) / eL + aLog[i] + bLog[j]);
                mass += p;
                distance += p * Math.Sqrt(2 * cxy[i * m + j]);
            }
        return new SinkhornResult(divergence, distance / mass);
    }

    /// <summary>softmin_ε(C, h)_i = −ε log Σ_j exp(h_j + φ_j/ε − C_ij/ε), with φ = 0 when null.</summary>
    private static double[] SoftMin(double eps, double[] c, int rows, int cols, double[] logWeights, double[]? potential)
    {
        var result = new double[rows];
        Parallel.For(0, rows, i =>
        {
            var row = c.AsSpan(i * cols, cols);
            double max = double.NegativeInfinity;
            for (int j = 0; j < cols; j++)
                max = Math.Max(max, logWeights[j] + (potential is null ? 0 : potential[j] / eps) - row[j] / eps);
            double s = 0;
            for (int j = 0; j < cols; j++)
                s += Math.Exp(logWeights[j] + (potential is null ? 0 : potential[j] / eps) - row[j] / eps - max);
            result[i] = -eps * (max + Math.Log(s));
        });
        return result;
    }

    private static double[] Cost(double[] x, double[] y, int dim)
    {
        int n = x.Length / dim, m = y.Length / dim;
        var c = new double[n * m];
        Parallel.For(0, n, i =>
        {
            var xi = x.AsSpan(i * dim, dim);
            for (int j = 0; j < m; j++)
            {
                var yj = y.AsSpan(j * dim, dim);
                double s = 0;
                for (int k = 0; k < dim; k++) { var d = xi[k] - yj[k]; s += d * d; }
                c[i * m + j] = 0.5 * s;
            }
        });
        return c;
    }

    private static double[] Transpose(double[] c, int n, int m)
    {
        var t = new double[m * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++) t[j * n + i] = c[i * m + j];
        return t;
    }

    /// <summary>‖max − min‖ over the coordinates of both clouds (geomloss's diameter estimate).</summary>
    private static double Diameter(double[] x, double[] y, int dim)
    {
        var lo = Fill(dim, double.PositiveInfinity);
        var hi = Fill(dim, double.NegativeInfinity);
        foreach (var cloud in new[] { x, y })
            for (int p = 0; p < cloud.Length; p++)
            {
                var k = p % dim;
                lo[k] = Math.Min(lo[k], cloud[p]);
                hi[k] = Math.Max(hi[k], cloud[p]);
            }
        double s = 0;
        for (int k = 0; k < dim; k++) s += (hi[k] - lo[k]) * (hi[k] - lo[k]);
        return Math.Sqrt(s);
    }

    private static double[] Fill(int n, double v)
    {
        var a = new double[n];
        Array.Fill(a, v);
        return a;
    }

    private static void Average(double[] into, double[] other)
    {
        for (int i = 0; i < into.Length; i++) into[i] = 0.5 * (into[i] + other[i]);
    }
}
