using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace HmmRnn.Host.Cli;

/// <summary>
/// How every number on the command line is read, in one place: the invariant culture (a decimal point, no thousands
/// separators), whatever the machine's locale. A number with a comma is refused with a hint instead of being read
/// as a thousands separator (<c>--lr 0,003</c> would otherwise train at 3). Applied to every numeric option of the
/// whole command tree by <see cref="Commands.Root"/>, so a new option cannot miss it.
/// </summary>
internal static class Numbers
{
    /// <summary>Gives every <c>double</c>, <c>int</c> and <c>long</c> option (nullable or not) and every <c>int[]</c> option under <paramref name="command"/> the invariant parser.</summary>
    public static T ReadInvariant<T>(T command) where T : Command
    {
        foreach (var option in command.Options)
        {
            switch (option)
            {
                case Option<double> d: d.CustomParser = r => r.Tokens.Count == 0 ? DefaultOf(d, r) : Parse<double>(r, TryDouble, "a number"); break;
                case Option<double?> d: d.CustomParser = r => r.Tokens.Count == 0 ? DefaultOf(d, r) : Parse<double>(r, TryDouble, "a number"); break;
                case Option<int> i: i.CustomParser = r => r.Tokens.Count == 0 ? DefaultOf(i, r) : Parse<int>(r, TryInt, "a whole number"); break;
                case Option<int?> i: i.CustomParser = r => r.Tokens.Count == 0 ? DefaultOf(i, r) : Parse<int>(r, TryInt, "a whole number"); break;
                case Option<long> l: l.CustomParser = r => r.Tokens.Count == 0 ? DefaultOf(l, r) : Parse<long>(r, TryLong, "a whole number"); break;
                case Option<long?> l: l.CustomParser = r => r.Tokens.Count == 0 ? DefaultOf(l, r) : Parse<long>(r, TryLong, "a whole number"); break;
                case Option<int[]> a: a.CustomParser = r => r.Tokens.Count == 0 ? DefaultOf(a, r) : [.. r.Tokens.Select(t => Read<int>(r, t.Value, TryInt, "a whole number"))]; break;
            }
        }
        foreach (var sub in command.Subcommands) ReadInvariant(sub);
        return command;
    }

    private delegate bool TryParse<TValue>(string text, out TValue value);

    private static bool TryDouble(string s, out double v) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out v);
    private static bool TryInt(string s, out int v) => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out v);
    private static bool TryLong(string s, out long v) => long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out v);

    /// <summary>An option's value when it is not given: its default, if it has one.</summary>
    private static TValue DefaultOf<TValue>(Option<TValue> option, ArgumentResult result) =>
        option.DefaultValueFactory is { } factory ? factory(result) : default!;

    /// <summary>One option's value: the invariant reading of its token, or one error naming option and value.</summary>
    private static TValue Parse<TValue>(ArgumentResult result, TryParse<TValue> tryParse, string what) where TValue : struct =>
        Read(result, result.Tokens[0].Value, tryParse, what);

    /// <summary>One token of an option: its invariant reading, or one error naming option and value.</summary>
    private static TValue Read<TValue>(ArgumentResult result, string text, TryParse<TValue> tryParse, string what) where TValue : struct
    {
        var name = (result.Parent as OptionResult)?.Option.Name ?? result.Argument.Name;
        if (text.Contains(',', StringComparison.Ordinal))
        {
            result.AddError(what == "a number"
                ? $"{name} = {text}: a comma in a number is not read; use a decimal point ({text.Replace(',', '.')}), and no thousands separators"
                : $"{name} = {text}: a comma in a whole number is not read; write it without thousands separators ({text.Replace(",", "", StringComparison.Ordinal)})");
            return default!;
        }
        if (tryParse(text, out var value)) return value;
        result.AddError($"{name} = {text}: not {what}");
        return default!;
    }
}
