using System.Collections.Immutable;
using HmmRnn.Analysis.HmmEmulation;
using HmmRnn.Analysis.Numerics;
using HmmRnn.Core;
using HmmRnn.Core.Rnn;
using MathNet.Numerics.LinearAlgebra;

namespace HmmRnn.Analysis.Dynamics;

/// <summary>The sizes of Dynamical Similarity Analysis.</summary>
/// <param name="Components">Principal components of the states kept before the delay embedding (at most the state dimension).</param>
/// <param name="Delays">Delays of the Hankel embedding (1: none).</param>
/// <param name="Rank">The rank of the DMD operator: the leading singular directions of the embedded data kept.</param>
/// <param name="Ridge">Ridge penalty of the least-squares fit of the operator, relative to the mean squared singular value.</param>
/// <param name="Starts">Starting rotations of the Procrustes search (the identity and random orthogonal matrices of both determinants).</param>
/// <param name="Iterations">Gradient steps per start.</param>
public sealed record DsaOptions(int Components = 10, int Delays = 5, int Rank = 10, double Ridge = 1e-6, int Starts = 12, int Iterations = 500)
{
    /// <summary>The first bad field, or null.</summary>
    public Violation? Problem() =>
        Components < 1 ? Violation.Of(nameof(Components), Components, "must be ≥ 1")
        : Delays < 1 ? Violation.Of(nameof(Delays), Delays, "must be ≥ 1")
        : Rank < 1 ? Violation.Of(nameof(Rank), Rank, "must be ≥ 1")
        : Rank > Components * Delays ? Violation.Of(nameof(Rank), Rank, $"must be ≤ components × delays = {Components * Delays}")
        : !(Ridge >= 0 && double.IsFinite(Ridge)) ? Violation.Of(nameof(Ridge), Ridge, "must be finite and ≥ 0")
        : Starts < 1 ? Violation.Of(nameof(Starts), Starts, "must be ≥ 1")
        : Iterations < 1 ? Violation.Of(nameof(Iterations), Iterations, "must be ≥ 1")
        : null;
}

/// <summary>A complex eigenvalue.</summary>
/// <param name="Re">Real part.</param>
/// <param name="Im">Imaginary part.</param>
public readonly record struct Eigenvalue(double Re, double Im)
{
    /// <summary>|λ|.</summary>
    public double Modulus => Math.Sqrt(Re * Re + Im * Im);
}

/// <summary>The linear operator that a delay-embedded DMD fits to one system's trajectories.</summary>
/// <param name="Rank">r, its size.</param>
/// <param name="Operator">A, r × r row-major: z_t+1 ≈ A z_t in the reduced delay coordinates.</param>
/// <param name="Eigenvalues">A's eigenvalues (real part, imaginary part), by decreasing modulus.</param>
/// <param name="ExplainedVariance">Share of the embedded data's variance inside the r kept directions.</param>
/// <param name="FitRSquared">1 − ‖Z_t+1 − A Z_t‖² / ‖Z_t+1‖²: how much of the next reduced state the operator predicts.</param>
/// <param name="Samples">Pairs (z_t, z_t+1) it was fitted on.</param>
public sealed record DmdOperator(int Rank, ImmutableArray<double> Operator, ImmutableArray<Eigenvalue> Eigenvalues,
    double ExplainedVariance, double FitRSquared, int Samples);

/// <summary>The closest orthogonal similarity of two operators.</summary>
/// <param name="Distance">min over orthogonal C of ‖A − C B Cᵀ‖_F.</param>
/// <param name="Rotation">The C attaining it, r × r row-major.</param>
public sealed record ProcrustesFit(double Distance, ImmutableArray<double> Rotation);

/// <summary>One group's members and their mean distance to each other (NaN with one member).</summary>
public sealed record GroupDistance(string Group, int Members, double MeanWithin);

/// <summary>Distances within and across groups.</summary>
/// <param name="Groups">Each group, in order of first appearance.</param>
/// <param name="MeanWithin">The mean over all pairs of one group.</param>
/// <param name="PairsWithin">Those pairs.</param>
/// <param name="MeanAcross">The mean over all pairs of two groups.</param>
/// <param name="PairsAcross">Those pairs.</param>
public sealed record SimilarityGroups(ImmutableArray<GroupDistance> Groups, double MeanWithin, int PairsWithin, double MeanAcross, int PairsAcross);

/// <summary>
/// Dynamical Similarity Analysis (Ostrow et al. 2023): how alike the dynamics of two systems are, whatever coordinates
/// they are written in. Each system's trajectories are reduced to principal components, delay-embedded (a Hankel matrix),
/// reduced again to the r leading singular directions, and a linear operator is fitted to the step z_t → z_t+1 (DMD). Two
/// operators are compared by the Procrustes distance over vector fields, min over orthogonal C of ‖A − C B Cᵀ‖_F: zero when
/// one system is a rotation (or reflection) of the other, positive when their linearised dynamics differ (other eigenvalues,
/// or the same eigenvalues on other non-normal structure).
/// </summary>
/// <remarks>
/// Differences from the reference implementation: the states are centred and first reduced by PCA (keeping the embedding
/// small enough for |h| = 150 on a laptop CPU; an orthogonal change of coordinates moves the principal axes with it, so the
/// invariance is kept); the rotation is searched by Riemannian gradient descent with a Cayley retraction and backtracking
/// from several starts instead of Adam on a parameterised orthogonal matrix.
/// </remarks>
public static class DynamicalSimilarity
{
    /// <summary>Fits the DMD operator of one system.</summary>
    /// <param name="trajectories">Each a T × n row-major run of the system's state (all of one dimension n; T &gt; delays).</param>
    /// <param name="dimension">n.</param>
    /// <param name="options">The sizes.</param>
    public static DmdOperator Fit(IReadOnlyList<double[]> trajectories, int dimension, DsaOptions options)
    {
        ArgumentNullException.ThrowIfNull(trajectories);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Problem() is { } problem) throw new ArgumentException(problem.ToString(), nameof(options));
        if (dimension < 1) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "must be ≥ 1");
        if (trajectories.Count == 0) throw new ArgumentException("no trajectories", nameof(trajectories));
        int n = dimension, d = options.Delays;
        for (int i = 0; i < trajectories.Count; i++)
        {
            if (trajectories[i].Length % n != 0) throw new ArgumentException($"trajectory {i}: {trajectories[i].Length} values is not a whole number of {n}-dimensional states", nameof(trajectories));
            if (trajectories[i].Length / n <= d) throw new ArgumentException($"trajectory {i}: {trajectories[i].Length / n} steps, needs more than the {d} delays", nameof(trajectories));
        }

        // 1. Centre and project on the leading principal components (coordinates oriented by their third moment).
        int p = Math.Min(options.Components, n);
        var (mean, covariance) = SampleMoments.Of(trajectories, n, nameof(trajectories), "step", "dimensions");
        var axes = LeadingEigenvectors(Matrix<double>.Build.Dense(n, n, (a, b) => covariance[a * n + b]), p);
        var projected = trajectories.Select(x =>
        {
            int T = x.Length / n;
            var y = new double[T * p];
            for (int t = 0; t < T; t++)
                for (int k = 0; k < p; k++)
                {
                    double s = 0;
                    for (int j = 0; j < n; j++) s += (x[t * n + j] - mean[j]) * axes[j, k];
                    y[t * p + k] = s;
                }
            return y;
        }).ToList();
        Orient(projected, p);

        // 2. Delay embedding: row t holds y_t, y_t+1, …, y_t+d−1 (d·p columns); consecutive rows of one trajectory are the pairs.
        int m = p * d;
        var gram = Matrix<double>.Build.Dense(m, m);
        var rows = new List<double[]>();
        var pairs = new List<(int From, int To)>();
        foreach (var y in projected)
        {
            int T = y.Length / p;
            for (int t = 0; t + d <= T; t++)
            {
                var h = new double[m];
                Array.Copy(y, t * p, h, 0, m);
                rows.Add(h);
                if (t > 0) pairs.Add((rows.Count - 2, rows.Count - 1));
            }
        }
        foreach (var h in rows)
            for (int a = 0; a < m; a++)
            {
                var ha = h[a];
                for (int b = a; b < m; b++) gram[a, b] += ha * h[b];
            }
        for (int a = 0; a < m; a++) for (int b = 0; b < a; b++) gram[a, b] = gram[b, a];

        // 3. The r leading right singular vectors of the embedded data (eigenvectors of its Gram matrix).
        int r = options.Rank;
        var evd = gram.Evd(Symmetricity.Symmetric);
        var order = Enumerable.Range(0, m).OrderByDescending(i => evd.EigenValues[i].Real).ToArray();
        var basis = Matrix<double>.Build.Dense(m, r, (i, k) => evd.EigenVectors[i, order[k]]);
        double total = evd.EigenValues.Sum(e => Math.Max(e.Real, 0)), kept = order.Take(r).Sum(i => Math.Max(evd.EigenValues[i].Real, 0));

        // 4. Least squares z_t+1 ≈ A z_t over the pairs, with a small ridge.
        var z = rows.Select(h => { var v = new double[r]; for (int k = 0; k < r; k++) { double s = 0; for (int a = 0; a < m; a++) s += h[a] * basis[a, k]; v[k] = s; } return v; }).ToList();
        Orient(z, r);
        var zz = Matrix<double>.Build.Dense(r, r);
        var nz = Matrix<double>.Build.Dense(r, r);
        double next2 = 0;
        foreach (var (from, to) in pairs)
            for (int a = 0; a < r; a++)
            {
                next2 += z[to][a] * z[to][a];
                for (int b = 0; b < r; b++) { zz[a, b] += z[from][a] * z[from][b]; nz[a, b] += z[to][a] * z[from][b]; }
            }
        var ridge = options.Ridge * zz.Diagonal().Average();
        var A = nz * (zz + Matrix<double>.Build.DenseIdentity(r) * ridge).Inverse();
        double residual = 0;
        foreach (var (from, to) in pairs)
        {
            var predicted = A * Vector<double>.Build.DenseOfArray(z[from]);
            for (int a = 0; a < r; a++) residual += (z[to][a] - predicted[a]) * (z[to][a] - predicted[a]);
        }
        var eig = A.Evd().EigenValues.Select(c => new Eigenvalue(c.Real, c.Imaginary)).OrderByDescending(c => c.Modulus).ThenByDescending(c => c.Im);
        return new DmdOperator(r, [.. A.ToRowMajorArray()], [.. eig], total > 0 ? kept / total : 0, next2 > 0 ? 1 - residual / next2 : 0, pairs.Count);
    }

    /// <summary>
    /// The operator of a noise-driven ReLU network as it was trained: <paramref name="episodes"/> runs of
    /// <paramref name="length"/> steps from h = 0 on Gaussian noise of scale <paramref name="sigma"/>, each run a trajectory.
    /// </summary>
    /// <exception cref="ArgumentException">the activity diverges (it has no operator to compare).</exception>
    public static DmdOperator FitNetwork(ReluRnnWeights weights, int length, int episodes, DsaOptions options, Rng rng, double sigma = 1)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (length <= (options ?? throw new ArgumentNullException(nameof(options))).Delays)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"must exceed the {options.Delays} delays");
        if (episodes < 1) throw new ArgumentOutOfRangeException(nameof(episodes), episodes, "must be ≥ 1");
        var (hidden, _, diverged) = HmmNetworkAnalysis.Simulate(weights, length * episodes, 0, length, sigma, rng);
        if (diverged >= 0) throw new ArgumentException($"the network's activity diverges under noise (step {diverged} of {episodes} runs of {length} steps)", nameof(weights));
        int H = weights.Hidden;
        return Fit([.. Enumerable.Range(0, episodes).Select(e => hidden[(e * length * H)..((e + 1) * length * H)])], H, options);
    }

    /// <summary>
    /// Distances within and across groups (e.g. HMMs): for each group the mean distance between its members, and the mean
    /// over all pairs of one group and over all pairs of two. "The same motif reused" predicts across ≈ within.
    /// </summary>
    public static SimilarityGroups Groups(double[,] distances, IReadOnlyList<string> groups)
    {
        ArgumentNullException.ThrowIfNull(distances);
        ArgumentNullException.ThrowIfNull(groups);
        int k = groups.Count;
        if (distances.GetLength(0) != k || distances.GetLength(1) != k) throw new ArgumentException($"a {k} × {k} matrix is needed for {k} labels", nameof(distances));
        var within = new List<double>();
        var across = new List<double>();
        var byGroup = new Dictionary<string, List<double>>();
        for (int i = 0; i < k; i++)
            for (int j = i + 1; j < k; j++)
                if (groups[i] == groups[j]) { within.Add(distances[i, j]); (byGroup.TryGetValue(groups[i], out var l) ? l : byGroup[groups[i]] = []).Add(distances[i, j]); }
                else across.Add(distances[i, j]);
        return new SimilarityGroups(
            [.. groups.Distinct().Select(g => new GroupDistance(g, groups.Count(x => x == g), byGroup.TryGetValue(g, out var l) ? l.Average() : double.NaN))],
            within.Count == 0 ? double.NaN : within.Average(), within.Count, across.Count == 0 ? double.NaN : across.Average(), across.Count);
    }

    /// <summary>The DSA distance of two fitted systems: the Procrustes distance of their operators.</summary>
    public static double Distance(DmdOperator a, DmdOperator b, Rng rng, DsaOptions options)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Rank != b.Rank) throw new ArgumentException($"operators of rank {a.Rank} and {b.Rank}: fit both with one rank", nameof(b));
        return Procrustes(Square(a), Square(b), rng, (options ?? throw new ArgumentNullException(nameof(options))).Starts, options.Iterations).Distance;
    }

    /// <summary>Every pair's distance: a symmetric matrix with a zero diagonal (each pair searched once, from its own substream).</summary>
    public static double[,] Distances(IReadOnlyList<DmdOperator> systems, Rng rng, DsaOptions options)
    {
        ArgumentNullException.ThrowIfNull(systems);
        int k = systems.Count;
        var result = new double[k, k];
        var pairs = (from i in Enumerable.Range(0, k) from j in Enumerable.Range(i + 1, k - i - 1) select (i, j)).ToArray();
        var values = new double[pairs.Length];
        Parallel.For(0, pairs.Length, q => values[q] = Distance(systems[pairs[q].i], systems[pairs[q].j], rng.Substream(q), options));
        for (int q = 0; q < pairs.Length; q++) result[pairs[q].i, pairs[q].j] = result[pairs[q].j, pairs[q].i] = values[q];
        return result;
    }

    /// <summary>
    /// min over orthogonal C of ‖A − C B Cᵀ‖_F, by Riemannian gradient descent on O(r) (Cayley retraction, Armijo backtracking)
    /// from the identity, the identity with one axis reflected, and random orthogonal matrices; the best end is returned.
    /// </summary>
    public static ProcrustesFit Procrustes(Matrix<double> a, Matrix<double> b, Rng rng, int starts = 12, int iterations = 500)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.RowCount != a.ColumnCount || b.RowCount != b.ColumnCount || a.RowCount != b.RowCount)
            throw new ArgumentException($"need two square matrices of one size, got {a.RowCount}×{a.ColumnCount} and {b.RowCount}×{b.ColumnCount}");
        int r = a.RowCount;
        var I = Matrix<double>.Build.DenseIdentity(r);
        double Cost(Matrix<double> c) => (a - c * b * c.Transpose()).FrobeniusNorm();
        Matrix<double>? best = null;
        double bestCost = double.PositiveInfinity;
        for (int s = 0; s < starts; s++)
        {
            Matrix<double> c;
            if (s == 0) c = I.Clone();
            else if (s == 1) { c = I.Clone(); c[0, 0] = -1; }
            else if (s % 2 == 0)
            {
                var g = new double[r * r];
                rng.Substream(s).FillNormal(g);
                c = Matrix<double>.Build.Dense(r, r, g).QR().Q;
            }
            else
            {
                // A random sign pattern: the reflections of single axes are isolated from the identity for a gradient search.
                var u = new double[r];
                rng.Substream(s).FillUniform(u);
                c = Matrix<double>.Build.DenseOfDiagonalArray([.. u.Select(x => x < 0.5 ? -1.0 : 1.0)]);
            }
            var cost = Cost(c);
            double step = 0.1;
            for (int it = 0; it < iterations && cost > 1e-12; it++)
            {
                var residual = a - c * b * c.Transpose();
                // Euclidean gradient of ‖R‖² with R = A − C B Cᵀ, then its skew part in C's tangent space.
                var grad = -2 * (residual * c * b.Transpose() + residual.Transpose() * c * b);
                var ct = c.Transpose() * grad;
                var omega = (ct - ct.Transpose()) / 2;
                var norm2 = omega.FrobeniusNorm();
                if (norm2 < 1e-12) break;
                double f0 = cost * cost;
                bool moved = false;
                for (int tries = 0; tries < 30; tries++)
                {
                    var w = omega * (-step);
                    var candidate = c * (I - w / 2).Inverse() * (I + w / 2);
                    var candidateCost = Cost(candidate);
                    if (candidateCost * candidateCost <= f0 - 1e-4 * step * norm2 * norm2)
                    {
                        (c, cost, moved) = (candidate, candidateCost, true);
                        step *= 1.5;
                        break;
                    }
                    step /= 2;
                }
                if (!moved) break;
            }
            if (cost < bestCost) (best, bestCost) = (c, cost);
        }
        return new ProcrustesFit(bestCost, [.. best!.ToRowMajorArray()]);
    }

    private static Matrix<double> Square(DmdOperator o) => Matrix<double>.Build.Dense(o.Rank, o.Rank, (i, j) => o.Operator[i * o.Rank + j]);

    private static Matrix<double> LeadingEigenvectors(Matrix<double> symmetric, int k)
    {
        var evd = symmetric.Evd(Symmetricity.Symmetric);
        var order = Enumerable.Range(0, symmetric.RowCount).OrderByDescending(i => evd.EigenValues[i].Real).Take(k).ToArray();
        return Matrix<double>.Build.Dense(symmetric.RowCount, k, (i, c) => evd.EigenVectors[i, order[c]]);
    }

    /// <summary>
    /// Each coordinate's sign such that it has a positive third moment over the data (blocks of rows of <paramref name="width"/>
    /// coordinates, negated in place). A convention of the data, not of its coordinates: a rotated copy of a system gets the
    /// same coordinates (a convention by an axis's largest entry would flip with the rotation and leave a sign matrix for the
    /// Procrustes search to find).
    /// </summary>
    private static void Orient(IReadOnlyList<double[]> blocks, int width)
    {
        var third = new double[width];
        foreach (var block in blocks)
            for (int i = 0; i < block.Length; i++) third[i % width] += block[i] * block[i] * block[i];
        foreach (var block in blocks)
            for (int i = 0; i < block.Length; i++)
                if (third[i % width] < 0) block[i] = -block[i];
    }
}
