using System.Collections.Immutable;
using HmmRnn.Core;
using HmmRnn.Core.HiddenMarkov;

namespace HmmRnn.Analysis.HmmEmulation;

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
    /// How many consecutive pairs (o_t, o_t+1) within the sequences start at each symbol: the number of observations
    /// behind each row of the empirical transition matrix.
    /// </summary>
    public static double[] RowCounts(IReadOnlyList<ImmutableArray<int>> sequences, int symbols)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (symbols <= 0) throw new ArgumentOutOfRangeException(nameof(symbols), symbols, "must be positive");
        var counts = new double[symbols];
        for (int n = 0; n < sequences.Count; n++)
        {
            var s = sequences[n].AsSpan();
            for (int t = 0; t + 1 < s.Length; t++)
            {
                if ((uint)s[t] >= (uint)symbols)
                    throw new ArgumentOutOfRangeException(nameof(sequences), s[t], $"sequences[{n}]: symbol at t = {t} is {s[t]}, outside [0, {symbols - 1}]");
                counts[s[t]]++;
            }
        }
        return counts;
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

    /// <summary>P(o_{t+k} = o_t) for k = 1 … <paramref name="maxLag"/>, pooled over sequences and positions.</summary>
    public static double[] SameOutputAtLag(IReadOnlyList<ImmutableArray<int>> sequences, int maxLag)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (maxLag < 1) throw new ArgumentOutOfRangeException(nameof(maxLag), maxLag, "must be ≥ 1");
        var same = new double[maxLag];
        var pairs = new double[maxLag];
        foreach (var seq in sequences)
            for (int k = 1; k <= maxLag && k < seq.Length; k++)
                for (int t = 0; t + k < seq.Length; t++)
                {
                    pairs[k - 1]++;
                    if (seq[t] == seq[t + k]) same[k - 1]++;
                }
        return same.Select((x, i) => pairs[i] > 0 ? x / pairs[i] : double.NaN).ToArray();
    }

    /// <summary>
    /// Dwell times: for each symbol, counts[v][ℓ] of runs of exactly ℓ equal symbols (ℓ = 1 …
    /// <paramref name="maxLength"/>; longer runs count at maxLength). Runs that touch either end of
    /// a sequence are censored and left out.
    /// </summary>
    public static double[][] DwellTimes(IReadOnlyList<ImmutableArray<int>> sequences, int symbols, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (symbols <= 0) throw new ArgumentOutOfRangeException(nameof(symbols), symbols, "must be positive");
        if (maxLength < 1) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "must be ≥ 1");
        var counts = Enumerable.Range(0, symbols).Select(_ => new double[maxLength + 1]).ToArray();
        foreach (var seq in sequences)
        {
            int start = 0;
            for (int t = 1; t <= seq.Length; t++)
            {
                if (t < seq.Length && seq[t] == seq[start]) continue;
                if (start > 0 && t < seq.Length) counts[seq[start]][Math.Min(t - start, maxLength)]++;
                start = t;
            }
        }
        return counts;
    }

    /// <summary>Mean of a dwell-time histogram from <see cref="DwellTimes"/> (NaN when empty).</summary>
    public static double MeanDwell(ReadOnlySpan<double> histogram)
    {
        double n = 0, s = 0;
        for (int l = 1; l < histogram.Length; l++) { n += histogram[l]; s += l * histogram[l]; }
        return n > 0 ? s / n : double.NaN;
    }

    /// <summary>
    /// The first <paramref name="count"/> sequences (all when null) as one-hot rows, flattened: sequence n,
    /// step t, symbol v at [(n·T + t)·V + v] — the paper's points in R^(V·T).
    /// </summary>
    public static double[] OneHot(IReadOnlyList<ImmutableArray<int>> sequences, int symbols, int? count = null)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (symbols < 1) throw new ArgumentOutOfRangeException(nameof(symbols), symbols, "must be ≥ 1");
        int n = count ?? sequences.Count;
        if (n < 0 || n > sequences.Count) throw new ArgumentOutOfRangeException(nameof(count), count, $"must be in [0, {sequences.Count}]");
        if (n == 0) return [];
        int T = sequences[0].Length;
        var x = new double[n * T * symbols];
        for (int i = 0; i < n; i++)
        {
            if (sequences[i].Length != T) throw new ArgumentException($"sequence {i} has {sequences[i].Length} steps, sequence 0 has {T}", nameof(sequences));
            for (int t = 0; t < T; t++)
            {
                var v = sequences[i][t];
                if ((uint)v >= (uint)symbols) throw new ArgumentException($"sequence {i}, step {t}: symbol {v} outside [0, {symbols})", nameof(sequences));
                x[(i * T + t) * symbols + v] = 1;
            }
        }
        return x;
    }
}
