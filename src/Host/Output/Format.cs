using System.Globalization;
using HmmRnn.Core;

namespace HmmRnn.Host.Output;

/// <summary>Number formatting for the console, Markdown and tables: invariant culture, fixed digits (Cli, tasks and experiments share it).</summary>
internal static class Format
{
    public static string F(double x, int digits = 4) => x.ToString("F" + digits, CultureInfo.InvariantCulture);

    /// <summary>A table cell: fixed digits, or "–" for a number that is not defined (NaN).</summary>
    public static string Cell(double x, int digits = 4) => double.IsNaN(x) ? "–" : F(x, digits);

    public static string Vector(ReadOnlySpan<double> v, int digits = 4)
    {
        var parts = new string[v.Length];
        for (int i = 0; i < v.Length; i++) parts[i] = F(v[i], digits);
        return "[" + string.Join(", ", parts) + "]";
    }

    public static string Matrix(StochasticMatrix m, int digits = 4) =>
        string.Join(" ", Enumerable.Range(0, m.Rows).Select(i => Vector(m.Row(i), digits)));
}
