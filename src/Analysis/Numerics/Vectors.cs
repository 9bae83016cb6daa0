namespace HmmRnn.Analysis.Numerics;

/// <summary>Dot products, lengths and distances of plain vectors: the one place the analyses take them from.</summary>
internal static class Vectors
{
    /// <summary>Σ a_i b_i (over a's length).</summary>
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    /// <summary>‖v‖₂.</summary>
    public static double Norm(ReadOnlySpan<double> v) => Math.Sqrt(Dot(v, v));

    /// <summary>The index of the largest entry (the first on ties).</summary>
    public static int ArgMax(ReadOnlySpan<double> y)
    {
        int best = 0;
        for (int i = 1; i < y.Length; i++) if (y[i] > y[best]) best = i;
        return best;
    }

    /// <summary>‖a − b‖₂.</summary>
    public static double Distance(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
        return Math.Sqrt(s);
    }
}
