using System.CommandLine;
using System.CommandLine.Help;
using System.Globalization;
using HmmRnn.Host.Output;

namespace HmmRnn.Host.Cli;

/// <summary>The command line: every verb under one root.</summary>
internal static class Commands
{
    public static RootCommand Root()
    {
        var root = new RootCommand(
            "HmmRnn: RNNs that emulate hidden Markov models, and exact Bayesian baselines of the IBL task.\n" +
            "Run 'hmmrnn demo' for a quick tour, 'hmmrnn run experiments/hmm-quick.json' for a whole experiment with its report; " +
            "'hmmrnn <command> --help' for each command.\n" +
            "Numbers are read with a decimal point (0.003), never a comma. " +
            $"Exit codes: {ExitCode.Success} success, {ExitCode.UsageError} bad input (refused before anything is written), {ExitCode.Failure} failure while running " +
            $"(e.g. a diverged training), {ExitCode.Interrupted} interrupted (Ctrl+C or SIGTERM; the run resumes with --resume).");
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(ExperimentCommands.Run());
        root.Subcommands.Add(ExperimentCommands.List());
        root.Subcommands.Add(ExperimentCommands.ReportCommand());
        root.Subcommands.Add(ExperimentCommands.SweepCommand());
        root.Subcommands.Add(HmmCommands.Create());
        root.Subcommands.Add(TrainCommands.Train());
        root.Subcommands.Add(TrainCommands.Evaluate());
        root.Subcommands.Add(AnalyzeCommand.Create());
        root.Subcommands.Add(CompareCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(IblCommands.Create());
        root.Subcommands.Add(BenchCommands.Create());
        root.Subcommands.Add(DoctorCommand.Create());
        return Numbers.ReadInvariant(root);
    }

    /// <summary>
    /// Runs a command line under the exit-code convention: the invariant culture for everything read and printed;
    /// a line that does not parse is refused with its errors on one line (exit 2), not the whole help (a command group
    /// named without its verb shows its help, also exit 2).
    /// </summary>
    public static int Invoke(string[] args, InvocationConfiguration? configuration = null)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.DefaultThreadCurrentUICulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = CultureInfo.InvariantCulture;
        var result = Root().Parse(args);
        if (result.Errors.Count == 0) return result.Invoke(configuration);
        var command = result.CommandResult.Command;
        if (command.Action is null && command.Subcommands.Count > 0 && result.Tokens.Count == PathOf(result).Count - 1)
        {
            new HelpAction().Invoke(result);
            return ExitCode.UsageError;
        }
        var errors = string.Join("; ", result.Errors.Select(Describe).Distinct());
        return Cli.Fail($"{errors} ('{string.Join(' ', PathOf(result))} --help' lists the options)");
    }

    /// <summary>
    /// A parse error in one line, naming its option when the parser's own words do not ("--device: Argument 'tpu' not
    /// recognized. Must be one of: 'cpu' 'cuda'"); the parser's message is shown as given, never taken apart.
    /// </summary>
    private static string Describe(System.CommandLine.Parsing.ParseError error)
    {
        var message = string.Join(' ', error.Message.Split((char[])[' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries));
        var option = error.SymbolResult switch
        {
            System.CommandLine.Parsing.OptionResult o => o.Option.Name,
            System.CommandLine.Parsing.ArgumentResult { Parent: System.CommandLine.Parsing.OptionResult o } => o.Option.Name,
            System.CommandLine.Parsing.ArgumentResult a => a.Argument.Name,
            _ => null,
        };
        return option is null || message.StartsWith(option, StringComparison.Ordinal) ? message : $"{option}: {message}";
    }

    private static List<string> PathOf(ParseResult result)
    {
        var names = new List<string>();
        for (var r = result.CommandResult; r is not null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            names.Insert(0, r.Command is RootCommand ? "hmmrnn" : r.Command.Name);
        return names;
    }
}
