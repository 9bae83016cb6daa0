using System.CommandLine;
using System.Globalization;
using HmmRnn.Host.Cli;

namespace HmmRnn.Host.Tests;

/// <summary>Runs a whole command line as <c>hmmrnn</c> does (<see cref="Commands.Invoke"/>); returns its exit code and standard error.</summary>
internal static class Hmmrnn
{
    public static (int Code, string Error) Run(params string[] args)
    {
        var error = new StringWriter();
        var saved = Console.Error;
        Console.SetError(error);
        try { return (Commands.Invoke(args), error.ToString()); }
        finally { Console.SetError(saved); }
    }
}

/// <summary>Issue 20: numbers are read one way (invariant culture), and a decimal comma is refused with a hint.</summary>
[Collection("torch")]
public class NumberParsingTests : TempFolderTest
{
    /// <summary>Every numeric option of every command, with the words that lead to it ("ibl", "train").</summary>
    private static IEnumerable<(string[] Path, Option Option)> NumericOptions(Command command, string[] path)
    {
        foreach (var o in command.Options)
            if (o is Option<double> or Option<double?>)
                yield return (path, o);
        foreach (var sub in command.Subcommands)
            foreach (var x in NumericOptions(sub, [.. path, sub.Name]))
                yield return x;
    }

    // Catches: a double option that keeps System.CommandLine's own parser (the invariant culture with thousands
    // separators: "1,5" is read as 15), e.g. an option added to a command that Commands.Root does not walk.
    [Fact]
    public void Every_double_option_of_every_command_refuses_a_comma_naming_option_and_value()
    {
        var options = NumericOptions(Commands.Root(), []).ToArray();
        Assert.True(options.Length >= 9, $"only {options.Length} double options found");
        foreach (var (path, option) in options)
        {
            var errors = Commands.Root().Parse([.. path, option.Name, "1,5"]).Errors.Select(e => e.Message).ToArray();
            Assert.True(errors.Any(e => e.StartsWith($"{option.Name} = 1,5:", StringComparison.Ordinal) && e.Contains("use a decimal point (1.5)", StringComparison.Ordinal)),
                $"{string.Join(' ', path)} {option.Name} 1,5: {string.Join(" | ", errors)}");
        }
    }

    // Catches: a comma read as a thousands separator (train would run at lr 3, ibl train at 15, analyze at σ 15), and a
    // refusal that prints the whole help or exits 1; --epochs 0 keeps a broken parser from training (its refusal names Epochs).
    [Theory]
    [InlineData("train", "--lr", "0,003", "--epochs", "0")]
    [InlineData("train", "--recurrent-identity", "0,97", "--epochs", "0")]
    [InlineData("ibl", "train", "--lr", "1,5", "--epochs", "0")]
    [InlineData("analyze", "RUN", "--sigma", "1,5")]
    [InlineData("bench", "train", "--pair-weight", "0,5", "--batch", "1", "--T", "1", "--hidden", "1", "--input", "1", "--steps", "1", "--warmup", "0")]
    public void A_decimal_comma_is_refused_with_a_hint_in_one_line_and_nothing_is_written(params string[] args)
    {
        var run = Path.Combine(Root, "run");
        var line = args.Select(a => a == "RUN" ? run : a).ToList();
        if (args[0] is "train" || args[..2].SequenceEqual(["ibl", "train"])) line.AddRange(["--out", run]);
        var (code, error) = Hmmrnn.Run([.. line]);
        Assert.Equal(2, code);
        Assert.Single(error.Trim().Split('\n'));
        var comma = args.First(a => a.Contains(','));
        Assert.Contains($"= {comma}: a comma in a number is not read; use a decimal point ({comma.Replace(',', '.')})", error);
        Assert.False(Directory.Exists(Root), "a refused command wrote files");
    }

    // Catches: a parser that follows the machine's culture (in de-DE "0.003" is 3: '.' groups thousands) and one
    // that loses an option's default.
    [Fact]
    public void Numbers_are_read_in_the_invariant_culture_whatever_the_machines_and_defaults_stay()
    {
        var saved = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = new CultureInfo("de-DE");
        try
        {
            var r = Commands.Root().Parse(["train", "--lr", "0.003", "--pair-weight", "1e-2", "--hidden", "-3"]);
            Assert.Empty(r.Errors);
            Assert.Equal(0.003, r.GetValue<double?>("--lr"));
            Assert.Equal(0.01, r.GetValue<double?>("--pair-weight"));
            Assert.Equal(-3, r.GetValue<int?>("--hidden"));
            Assert.Null(r.GetValue<double?>("--activity-weight"));
            Assert.Equal(10_000, Commands.Root().Parse(["evaluate", "x"]).GetValue<int>("--sequences"));
            Assert.Equal(1.0, Commands.Root().Parse(["analyze", "x"]).GetValue<double>("--sigma"));
        }
        finally { CultureInfo.CurrentCulture = saved; }
    }

    // Catches: parser errors shown as the whole help with exit 1, or with .NET type names (System.Nullable`1[System.Int32]).
    [Theory]
    [InlineData("train", "--bogus")]
    [InlineData("train", "--hidden", "many")]
    [InlineData("evaluate")]
    public void A_line_that_does_not_parse_is_one_line_and_exit_2(params string[] args)
    {
        var (code, error) = Hmmrnn.Run(args);
        Assert.Equal(2, code);
        Assert.Single(error.Trim().Split('\n'));
        Assert.DoesNotContain("System.", error);
        Assert.Contains("--help' lists the options", error);
    }

    [Fact]
    public void The_root_help_states_the_exit_codes()
    {
        var description = Commands.Root().Description!;
        Assert.Contains("Exit codes: 0 success, 2 bad input", description);
        Assert.Contains("1 failure while running", description);
        Assert.Contains("130 interrupted", description);
    }
}
