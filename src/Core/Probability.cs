using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace HmmRnn.Core;

/// <summary>Tolerances shared by every check that a vector or a row sums to one.</summary>
public static class ProbabilityTolerance
{
    /// <summary>How far from 1 a sum of probabilities may be: 1e-9.</summary>
    public const double Sum = 1e-9;
}

/// <summary>
/// A validated, immutable probability vector: finite, non-negative entries summing to one
/// within <see cref="ProbabilityTolerance.Sum"/>.
/// </summary>
public sealed record ProbabilityVector
{
    private readonly double[] _values;

    private ProbabilityVector(double[] values) => _values = values;

    /// <summary>The number of outcomes.</summary>
    public int Count => _values.Length;

    /// <summary>The probability of outcome <paramref name="index"/>.</summary>
    public double this[int index] => _values[index];

    /// <summary>The probabilities, as an immutable copy.</summary>
    public ImmutableArray<double> Values => ImmutableArray.Create(_values);

    /// <summary>The probabilities, read-only and without a copy.</summary>
    public ReadOnlySpan<double> AsSpan() => _values;

    /// <summary>Validates and copies <paramref name="probabilities"/>.</summary>
    /// <exception cref="ArgumentException">empty, NaN or infinite, negative, or not summing to one; the message names the entry.</exception>
    public static ProbabilityVector Create(ReadOnlySpan<double> probabilities, string name = "probabilities")
    {
        Validate(probabilities, name);
        return new ProbabilityVector(probabilities.ToArray());
    }

    /// <summary>Validates and copies <paramref name="probabilities"/>.</summary>
    public static ProbabilityVector Create(params double[] probabilities) =>
        Create((ReadOnlySpan<double>)(probabilities ?? throw new ArgumentNullException(nameof(probabilities))));

    /// <summary>Validates and copies <paramref name="probabilities"/>.</summary>
    public static ProbabilityVector Create(IEnumerable<double> probabilities) =>
        Create((ReadOnlySpan<double>)(probabilities ?? throw new ArgumentNullException(nameof(probabilities))).ToArray());

    /// <summary>The uniform distribution over <paramref name="count"/> outcomes.</summary>
    public static ProbabilityVector Uniform(int count)
    {
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), count, "a distribution needs at least one outcome");
        var v = new double[count];
        Array.Fill(v, 1.0 / count);
        return new ProbabilityVector(v);
    }

    /// <summary>Weights divided by their sum (weights finite, non-negative, not all zero).</summary>
    public static ProbabilityVector Normalize(ReadOnlySpan<double> weights, string name = "weights")
    {
        CheckEntries(weights, name, row: null);
        var sum = 0.0;
        foreach (var w in weights) sum += w;
        if (!(sum > 0)) throw new ArgumentException($"{name}: all weights are zero; nothing to normalise", name);
        var v = new double[weights.Length];
        for (int i = 0; i < v.Length; i++) v[i] = weights[i] / sum;
        return new ProbabilityVector(v);
    }

    /// <summary>A point mass on <paramref name="index"/>.</summary>
    public static ProbabilityVector PointMass(int count, int index)
    {
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), count, "a distribution needs at least one outcome");
        if ((uint)index >= (uint)count) throw new ArgumentOutOfRangeException(nameof(index), index, $"must be in [0, {count - 1}]");
        var v = new double[count];
        v[index] = 1;
        return new ProbabilityVector(v);
    }

    /// <summary>Wraps an array the caller built and will never touch again; no validation (Core's own hot paths only).</summary>
    internal static ProbabilityVector Trusted(double[] values) => new(values);

    internal static void Validate(ReadOnlySpan<double> p, string name, int? row = null)
    {
        if (Problem(p, row is int r ? $"{name}[{r}]" : name) is { } problem) throw problem.ToException();
    }

    /// <summary>
    /// Why <paramref name="p"/> is not a probability vector, as data, or null: the field is <paramref name="name"/> for the
    /// vector as a whole ("must sum to 1 (tolerance 1e-09)", the sum as its value) or <c>name[i]</c> for entry i ("must be a
    /// finite number", "must be ≥ 0"). Every check of a distribution in Core words its refusal here.
    /// </summary>
    public static Violation? Problem(ReadOnlySpan<double> p, string name = "probabilities")
    {
        if (p.IsEmpty) return Violation.Of(name, "[]", "must have at least one entry");
        var sum = 0.0;
        for (int i = 0; i < p.Length; i++)
        {
            if (!double.IsFinite(p[i])) return Violation.Of($"{name}[{i}]", Fmt(p[i]), "must be a finite number");
            if (p[i] < 0) return Violation.Of($"{name}[{i}]", Fmt(p[i]), "must be ≥ 0");
            sum += p[i];
        }
        return Math.Abs(sum - 1.0) > ProbabilityTolerance.Sum
            ? Violation.Of(name, $"a sum of {Fmt(sum)}", $"must sum to 1 (tolerance {ProbabilityTolerance.Sum.ToString("g", CultureInfo.InvariantCulture)})")
            : null;
    }

    private static void CheckEntries(ReadOnlySpan<double> p, string name, int? row)
    {
        var field = row is int r ? $"{name}[{r}]" : name;
        if (p.IsEmpty) throw Violation.Of(field, "[]", "must have at least one entry").ToException();
        for (int i = 0; i < p.Length; i++)
        {
            if (!double.IsFinite(p[i])) throw Violation.Of($"{field}[{i}]", Fmt(p[i]), "must be a finite number").ToException();
            if (p[i] < 0) throw Violation.Of($"{field}[{i}]", Fmt(p[i]), "must be ≥ 0").ToException();
        }
    }

    internal static string Fmt(double x) => x.ToString("G6", CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public bool Equals(ProbabilityVector? other) =>
        other is not null && _values.AsSpan().SequenceEqual(other._values);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var x in _values) h.Add(x);
        return h.ToHashCode();
    }

    /// <inheritdoc />
    public override string ToString() =>
        "[" + string.Join(", ", _values.Select(x => x.ToString("G4", CultureInfo.InvariantCulture))) + "]";
}

/// <summary>
/// A validated, immutable row-stochastic matrix: every row is a probability vector.
/// Stored row-major; <see cref="Row"/> is a view without a copy.
/// </summary>
public sealed record StochasticMatrix
{
    private readonly double[] _values;

    private StochasticMatrix(int rows, int columns, double[] values)
    {
        Rows = rows;
        Columns = columns;
        _values = values;
    }

    /// <summary>The number of rows (conditioning values).</summary>
    public int Rows { get; }

    /// <summary>The number of columns (outcomes).</summary>
    public int Columns { get; }

    /// <summary>Entry (row, column).</summary>
    public double this[int row, int column]
    {
        get
        {
            if ((uint)row >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(row), row, $"must be in [0, {Rows - 1}]");
            if ((uint)column >= (uint)Columns) throw new ArgumentOutOfRangeException(nameof(column), column, $"must be in [0, {Columns - 1}]");
            return _values[row * Columns + column];
        }
    }

    /// <summary>Row <paramref name="row"/> as a read-only view.</summary>
    public ReadOnlySpan<double> Row(int row)
    {
        if ((uint)row >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(row), row, $"must be in [0, {Rows - 1}]");
        return _values.AsSpan(row * Columns, Columns);
    }

    /// <summary>Row <paramref name="row"/> as a probability vector.</summary>
    public ProbabilityVector RowVector(int row) => ProbabilityVector.Trusted(Row(row).ToArray());

    /// <summary>All entries, row-major, read-only and without a copy.</summary>
    public ReadOnlySpan<double> AsSpan() => _values;

    /// <summary>The rows as nested arrays (a copy): handy for printing and serialising.</summary>
    public double[][] ToRows()
    {
        var rows = new double[Rows][];
        for (int i = 0; i < Rows; i++) rows[i] = Row(i).ToArray();
        return rows;
    }

    /// <summary>Validates and copies the rows.</summary>
    /// <exception cref="ArgumentException">no rows, ragged rows, or a row that is not a distribution; the message names the row.</exception>
    public static StochasticMatrix FromRows(IReadOnlyList<IReadOnlyList<double>> rows, string name = "matrix")
    {
        ArgumentNullException.ThrowIfNull(rows, name);
        if (Problem(rows, name) is { } problem) throw problem.ToException();
        var columns = rows[0].Count;
        var values = new double[rows.Count * columns];
        for (int i = 0; i < rows.Count; i++)
            for (int j = 0; j < columns; j++) values[i * columns + j] = rows[i][j];
        return new StochasticMatrix(rows.Count, columns, values);
    }

    /// <summary>
    /// Why <paramref name="rows"/> are not the rows of a stochastic matrix, as data, or null: the field is
    /// <paramref name="name"/> (no rows), <c>name[i]</c> (a missing or ragged row, a row not summing to 1) or <c>name[i][j]</c>
    /// (an entry); see <see cref="ProbabilityVector.Problem"/>.
    /// </summary>
    public static Violation? Problem(IReadOnlyList<IReadOnlyList<double>?>? rows, string name = "matrix")
    {
        if (rows is null || rows.Count == 0) return Violation.Of(name, "[]", "must have at least one row");
        var columns = rows[0]?.Count ?? 0;
        for (int i = 0; i < rows.Count; i++)
        {
            if (rows[i] is not { } r) return Violation.Of($"{name}[{i}]", null, "must be a row of numbers");
            if (r.Count != columns) return Violation.Of($"{name}[{i}]", $"{r.Count} entries", $"must have {columns} entries, as row 0");
            if (ProbabilityVector.Problem(r is double[] a ? a : r.ToArray(), $"{name}[{i}]") is { } problem) return problem;
        }
        return null;
    }

    /// <summary>Validates and copies the rows.</summary>
    public static StochasticMatrix FromRows(params double[][] rows) =>
        FromRows((IReadOnlyList<IReadOnlyList<double>>)(rows ?? throw new ArgumentNullException(nameof(rows))));

    /// <summary>Validates and copies a rectangular array.</summary>
    public static StochasticMatrix Create(double[,] entries, string name = "matrix")
    {
        ArgumentNullException.ThrowIfNull(entries, name);
        int n = entries.GetLength(0), m = entries.GetLength(1);
        var rows = new double[n][];
        for (int i = 0; i < n; i++)
        {
            rows[i] = new double[m];
            for (int j = 0; j < m; j++) rows[i][j] = entries[i, j];
        }
        return FromRows(rows, name);
    }

    /// <summary>The identity: each row a point mass on its own index.</summary>
    public static StochasticMatrix Identity(int size)
    {
        if (size <= 0) throw new ArgumentOutOfRangeException(nameof(size), size, "must be positive");
        var v = new double[size * size];
        for (int i = 0; i < size; i++) v[i * size + i] = 1;
        return new StochasticMatrix(size, size, v);
    }

    /// <inheritdoc />
    public bool Equals(StochasticMatrix? other) =>
        other is not null && Rows == other.Rows && Columns == other.Columns && _values.AsSpan().SequenceEqual(other._values);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(Rows);
        h.Add(Columns);
        foreach (var x in _values) h.Add(x);
        return h.ToHashCode();
    }

    /// <inheritdoc />
    public override string ToString()
    {
        var sb = new StringBuilder();
        for (int i = 0; i < Rows; i++)
        {
            sb.Append(i == 0 ? "[" : " ");
            sb.Append(ProbabilityVector.Trusted(Row(i).ToArray()));
            sb.Append(i == Rows - 1 ? "]" : "\n");
        }
        return sb.ToString();
    }
}
