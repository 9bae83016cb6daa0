namespace HmmRnn.Core.HiddenMarkov;

/// <summary>
/// Output-level statistics of a symbol process: how often each symbol is emitted, the
/// one-step transition matrix between symbols P(o_{t+1} | o_t), and the probability that
/// the output changes from one step to the next (the paper's "volatility").
/// </summary>
/// <param name="Frequencies">P(o_t = v).</param>
/// <param name="Transition">P(o_{t+1} = w | o_t = v) at row v, column w.</param>
/// <param name="ChangeProbability">P(o_{t+1} ≠ o_t).</param>
public sealed record OutputStatistics(ProbabilityVector Frequencies, StochasticMatrix Transition, double ChangeProbability);

/// <summary>Exact statistics of an HMM's stationary regime, derived from its matrices.</summary>
public static class HmmStatistics
{
    /// <summary>
    /// The stationary distribution π = πA of a transition matrix, by solving the linear system
    /// with one equation replaced by Σπ = 1.
    /// </summary>
    /// <exception cref="ArgumentException">the chain has no unique stationary distribution (several closed classes).</exception>
    public static ProbabilityVector Stationary(StochasticMatrix transition)
    {
        ArgumentNullException.ThrowIfNull(transition);
        int k = transition.Rows;
        if (transition.Columns != k)
            throw new ArgumentException($"transition: must be square, but is {k} × {transition.Columns}", nameof(transition));
        // (Aᵀ − I) π = 0 with the last row replaced by 1ᵀ π = 1.
        var m = new double[k, k];
        var rhs = new double[k];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
                m[i, j] = transition[j, i] - (i == j ? 1 : 0);
        for (int j = 0; j < k; j++) m[k - 1, j] = 1;
        rhs[k - 1] = 1;
        var pi = LinearAlgebra.Solve(m, rhs)
            ?? throw new ArgumentException("transition: the chain has no unique stationary distribution (it has several closed classes)", nameof(transition));
        // Clip round-off below zero and renormalise.
        for (int i = 0; i < k; i++) pi[i] = Math.Max(pi[i], 0);
        return ProbabilityVector.Normalize(pi, "stationary");
    }

    /// <summary>The stationary distribution of an HMM's hidden chain.</summary>
    public static ProbabilityVector Stationary(Hmm hmm) => Stationary((hmm ?? throw new ArgumentNullException(nameof(hmm))).Transition);

    /// <summary>
    /// Output statistics in the stationary regime: P(o) = Σ_k π_k B_kv and
    /// P(o' | o) = Σ_{k,l} π_k B_ko A_kl B_lo' / P(o). A symbol that is never emitted gets, as its
    /// row, the output frequencies (conditioning on an impossible event carries no information).
    /// </summary>
    public static OutputStatistics Outputs(Hmm hmm) => Outputs(hmm, Stationary(hmm));

    /// <summary>Output statistics of one step taken from state distribution <paramref name="stateDistribution"/>.</summary>
    public static OutputStatistics Outputs(Hmm hmm, ProbabilityVector stateDistribution)
    {
        ArgumentNullException.ThrowIfNull(hmm);
        ArgumentNullException.ThrowIfNull(stateDistribution);
        int k = hmm.States, v = hmm.Symbols;
        if (stateDistribution.Count != k)
            throw new ArgumentException($"stateDistribution: has {stateDistribution.Count} states but the model has {k}", nameof(stateDistribution));
        var freq = new double[v];
        var joint = new double[v * v];
        for (int s = 0; s < k; s++)
        {
            var ps = stateDistribution[s];
            if (ps == 0) continue;
            for (int o = 0; o < v; o++)
            {
                var pso = ps * hmm.Emission[s, o];
                freq[o] += pso;
                if (pso == 0) continue;
                for (int s2 = 0; s2 < k; s2++)
                {
                    var w = pso * hmm.Transition[s, s2];
                    if (w == 0) continue;
                    for (int o2 = 0; o2 < v; o2++) joint[o * v + o2] += w * hmm.Emission[s2, o2];
                }
            }
        }
        return FromCounts(freq, joint, v);
    }

    /// <summary>
    /// P(o_{t+k} = o_t) for k = 1 … <paramref name="maxLag"/> in the stationary regime:
    /// Σ_v Σ_{s,s'} π_s B_sv (A^k)_{ss'} B_s'v. How long the output "remembers" itself.
    /// </summary>
    public static double[] SameOutputAtLag(Hmm hmm, int maxLag)
    {
        ArgumentNullException.ThrowIfNull(hmm);
        if (maxLag < 1) throw new ArgumentOutOfRangeException(nameof(maxLag), maxLag, "must be ≥ 1");
        int k = hmm.States, v = hmm.Symbols;
        var pi = Stationary(hmm);
        // w[s'][v] = Σ_s π_s B_sv (A^lag)_{s s'}, advanced one lag at a time.
        var w = new double[k * v];
        for (int s = 0; s < k; s++)
            for (int o = 0; o < v; o++) w[s * v + o] = pi[s] * hmm.Emission[s, o];
        var result = new double[maxLag];
        for (int lag = 1; lag <= maxLag; lag++)
        {
            var next = new double[k * v];
            for (int s = 0; s < k; s++)
                for (int s2 = 0; s2 < k; s2++)
                {
                    var a = hmm.Transition[s, s2];
                    if (a == 0) continue;
                    for (int o = 0; o < v; o++) next[s2 * v + o] += w[s * v + o] * a;
                }
            w = next;
            double same = 0;
            for (int s = 0; s < k; s++)
                for (int o = 0; o < v; o++) same += w[s * v + o] * hmm.Emission[s, o];
            result[lag - 1] = same;
        }
        return result;
    }

    /// <summary>
    /// Output statistics from symbol frequencies and the joint frequencies of consecutive pairs
    /// (unnormalised counts are fine). Shared by the analytic and the empirical estimates.
    /// </summary>
    public static OutputStatistics FromCounts(ReadOnlySpan<double> symbolCounts, ReadOnlySpan<double> pairCounts, int symbols)
    {
        if (symbols <= 0) throw new ArgumentOutOfRangeException(nameof(symbols), symbols, "must be positive");
        if (symbolCounts.Length != symbols)
            throw new ArgumentException($"symbolCounts: has {symbolCounts.Length} entries, expected {symbols}", nameof(symbolCounts));
        if (pairCounts.Length != symbols * symbols)
            throw new ArgumentException($"pairCounts: has {pairCounts.Length} entries, expected {symbols * symbols}", nameof(pairCounts));
        var frequencies = ProbabilityVector.Normalize(symbolCounts, "symbolCounts");
        var rows = new double[symbols][];
        double total = 0, same = 0;
        for (int o = 0; o < symbols; o++)
        {
            var row = pairCounts.Slice(o * symbols, symbols);
            var s = 0.0;
            foreach (var x in row) s += x;
            total += s;
            same += row[o];
            rows[o] = s > 0 ? ProbabilityVector.Normalize(row, "pairCounts").AsSpan().ToArray() : frequencies.AsSpan().ToArray();
        }
        if (!(total > 0)) throw new ArgumentException("pairCounts: all zero; sequences of length ≥ 2 are needed", nameof(pairCounts));
        return new OutputStatistics(frequencies, StochasticMatrix.FromRows(rows, "output transition"), 1 - same / total);
    }
}

/// <summary>Small dense linear algebra for Core (which takes no packages).</summary>
internal static class LinearAlgebra
{
    /// <summary>Solves M x = b by Gaussian elimination with partial pivoting; null when M is singular.</summary>
    public static double[]? Solve(double[,] matrix, double[] rhs)
    {
        int n = rhs.Length;
        var m = (double[,])matrix.Clone();
        var b = (double[])rhs.Clone();
        double scale = 0;
        foreach (var x in m) scale = Math.Max(scale, Math.Abs(x));
        var tiny = 1e-12 * Math.Max(scale, 1);
        for (int col = 0; col < n; col++)
        {
            int pivot = col;
            for (int r = col + 1; r < n; r++)
                if (Math.Abs(m[r, col]) > Math.Abs(m[pivot, col])) pivot = r;
            if (Math.Abs(m[pivot, col]) <= tiny) return null;
            if (pivot != col)
            {
                for (int c = 0; c < n; c++) (m[col, c], m[pivot, c]) = (m[pivot, c], m[col, c]);
                (b[col], b[pivot]) = (b[pivot], b[col]);
            }
            for (int r = col + 1; r < n; r++)
            {
                var f = m[r, col] / m[col, col];
                if (f == 0) continue;
                for (int c = col; c < n; c++) m[r, c] -= f * m[col, c];
                b[r] -= f * b[col];
            }
        }
        var x2 = new double[n];
        for (int r = n - 1; r >= 0; r--)
        {
            var s = b[r];
            for (int c = r + 1; c < n; c++) s -= m[r, c] * x2[c];
            x2[r] = s / m[r, r];
        }
        return x2;
    }
}
