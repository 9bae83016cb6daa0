using System.Collections;
using System.CommandLine;
using HmmRnn.Core;

namespace HmmRnn.Host.Cli;

/// <summary>
/// The accepted ranges of a command's whole-number options, declared once as a table beside the options and checked
/// before any work (<see cref="Refusal"/>): a value out of its range, or a product of sizes beyond its memory bound, is
/// refused in <see cref="Cli.Refuse(Symbol, object?, string)"/>'s one format ("--n: must be ≥ 1, got 0", exit 2).
/// Each range is appended to its option's description and each product bound to the command's, so <c>--help</c> states them.
/// </summary>
/// <example>
/// <code>
/// var bounds = new Bounds(cmd) { { count, 1, 10_000 }, { lengths, 1, 1_000 }, { 100_000_000, count, lengths } };
/// if (bounds.Refusal(r) is int refused) return refused;
/// </code>
/// </example>
internal sealed class Bounds(Command command) : IEnumerable
{
    /// <summary>One option's values (an array option: each of them) and their range.</summary>
    private sealed record Range(Option Option, Func<ParseResult, IReadOnlyList<long>> Values, long Min, long Max);

    /// <summary>The largest value of each of <paramref name="Factors"/>, multiplied, must be ≤ <paramref name="Max"/>.</summary>
    private sealed record Product(long Max, Option[] Factors);

    private readonly List<Range> ranges = [];
    private readonly List<Product> products = [];

    /// <summary><paramref name="option"/> must lie in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public void Add(Option<int> option, long min, long max) => Add(option, r => [r.GetValue(option)], min, max);

    /// <summary><paramref name="option"/> must name at least one value, each in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public void Add(Option<int[]> option, long min, long max) => Add(option, r => [.. (r.GetValue(option) ?? []).Select(v => (long)v)], min, max);

    /// <summary>The product of <paramref name="factors"/>' largest values must be ≤ <paramref name="max"/> (a memory bound); each factor needs its own range first.</summary>
    public void Add(long max, params Option[] factors)
    {
        ArgumentNullException.ThrowIfNull(factors);
        if (factors.Length < 2 || factors.Any(f => ranges.All(r => r.Option != f)))
            throw new ArgumentException("a product bound needs two or more factors, each with its range declared before it", nameof(factors));
        products.Add(new Product(max, factors));
        command.Description += $" Memory bound: {Names(factors)} ≤ {max}.";
    }

    private void Add(Option option, Func<ParseResult, IReadOnlyList<long>> values, long min, long max)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(min, max);
        ranges.Add(new Range(option, values, min, max));
        option.Description = $"{option.Description} In [{min}, {max}].";
    }

    /// <summary>
    /// Checks every range, then every product, in the order declared; the first problem is refused (one line on standard
    /// error) and its exit code returned. Null: every value is within its bounds.
    /// </summary>
    public int? Refusal(ParseResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var largest = new Dictionary<Option, long>();
        foreach (var range in ranges)
        {
            var values = range.Values(result);
            if (values.Count == 0) return Cli.Refuse(range.Option, "nothing", "must name at least one value");
            foreach (var v in values)
            {
                if (v < range.Min) return Cli.Refuse(range.Option, v, $"must be ≥ {range.Min}");
                if (Violation.AtMost(range.Option.Name, v, range.Max) is { } tooLarge) return Cli.Refuse(range.Option, v, tooLarge.Rule);
            }
            largest[range.Option] = values.Max();
        }
        foreach (var product in products)
        {
            // Each factor is ≤ int.MaxValue: the product of a few fits a double exactly enough to compare with the bound.
            var size = product.Factors.Aggregate(1.0, (p, f) => p * largest[f]);
            if (size > product.Max)
                return Cli.Fail($"{Names(product.Factors)}: must be ≤ {product.Max} (memory), got {string.Join(" × ", product.Factors.Select(f => largest[f]))} = {size:0}");
        }
        return null;
    }

    private static string Names(IEnumerable<Option> options) => string.Join(" × ", options.Select(o => o.Name));

    /// <summary>For the collection initializer only: the table is read by <see cref="Refusal"/>.</summary>
    IEnumerator IEnumerable.GetEnumerator() => ranges.GetEnumerator();
}
