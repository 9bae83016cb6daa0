using System.Collections.Immutable;
using HmmRnn.Core;

namespace HmmRnn.Analysis;

/// <summary>Output statistics estimated from sequences of symbols (HMM samples or RNN outputs).</summary>
public static class EmpiricalStatistics
{
    /// <summary>
    /// Symbol frequencies over all steps, the transition matrix from all consecutive pairs
    /// within sequences, and the fraction of consecutive pairs whose symbols differ.
    /// </summary>
    /// <exception cref="ArgumentException">no pair of consecutive steps, or a symbol outside [0, symbols).</exception>
    public static OutputStatistics Outputs(IReadOnlyList<ImmutableArray<int>> sequences, int symbols)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (symbols <= 0) throw new ArgumentOutOfRangeException(nameof(symbols), symbols, "must be positive");
        var counts = new double[symbols];
        var pairs = new double[symbols * symbols];
        for (int n = 0; n < sequences.Count; n++)
        {
            var s = sequences[n].AsSpan();
            for (int t = 0; t < s.Length; t++)
            {
                var o = s[t];
                if ((uint)o >= (uint)symbols)
                    throw new ArgumentOutOfRangeException(nameof(sequences), o, $"sequences[{n}]: symbol at t = {t} is {o}, outside [0, {symbols - 1}]");
                counts[o]++;
                if (t > 0) pairs[s[t - 1] * symbols + o]++;
            }
        }
        return HmmStatistics.FromCounts(counts, pairs, symbols);
    }

    /// <summary>
    /// Squared error between two output transition matrices, Σ_{v,w} (P − Q)²: the paper's
    /// success criterion is ≤ 0.01 (SPEC A4).
    /// </summary>
    public static double TransitionSquaredError(StochasticMatrix p, StochasticMatrix q)
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentNullException.ThrowIfNull(q);
        if (p.Rows != q.Rows || p.Columns != q.Columns)
            throw new ArgumentException($"shapes differ: {p.Rows} × {p.Columns} against {q.Rows} × {q.Columns}", nameof(q));
        var a = p.AsSpan();
        var b = q.AsSpan();
        var s = 0.0;
        for (int i = 0; i < a.Length; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
        return s;
    }
}
