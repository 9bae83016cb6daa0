namespace HmmRnn.Core;

/// <summary>
/// Why a value is refused, as data: which field, its value as shown, and the rule it breaks. Every configuration and
/// option record reports its first problem as one (<c>Problem()</c>); each reader renders it in its own words (the command
/// line with its option names, the experiment loader with JSON paths), none parses a message.
/// </summary>
/// <param name="Field">The field, as its record names it ("Hidden", "Kick.MinRise").</param>
/// <param name="Value">The refused value, as shown.</param>
/// <param name="Rule">The rule it breaks ("must be > 0").</param>
public sealed record Violation(string Field, string Value, string Rule)
{
    /// <summary>A violation of <paramref name="field"/> by <paramref name="value"/> (shown invariantly).</summary>
    public static Violation Of(string field, object? value, string rule) =>
        new(field, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "null", rule);

    /// <summary>
    /// The one wording of every upper bound (most keep memory sane): "must be ≤ max", or null when
    /// <paramref name="value"/> is within it.
    /// </summary>
    public static Violation? AtMost(string field, long value, long max) => value > max ? Of(field, value, $"must be ≤ {max}") : null;

    /// <summary>"Field = value: rule".</summary>
    public override string ToString() => $"{Field} = {Value}: {Rule}";

    /// <summary>The violation as the <see cref="ArgumentException"/> a validating function throws (its parameter name the field).</summary>
    public ArgumentException ToException() => new(ToString(), Field);
}
