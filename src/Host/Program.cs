using System.CommandLine;
using HmmRnn.Host.Cli;
using Spectre.Console;

// Redirected output (logs, CI, Slurm) has no terminal width: use a readable one.
if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 140;

var root = new RootCommand(
    "HmmRnn: RNNs that emulate hidden Markov models, and exact Bayesian baselines of the IBL task.\n" +
    "Run 'hmmrnn demo' for a quick tour; 'hmmrnn <command> --help' for each command.");
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(HmmCommands.Create());
root.Subcommands.Add(TrainCommands.Train());
root.Subcommands.Add(TrainCommands.Evaluate());
root.Subcommands.Add(AnalyzeCommand.Create());
root.Subcommands.Add(ExportCommand.Create());
root.Subcommands.Add(IblCommands.Create());
root.Subcommands.Add(BenchCommands.Create());
root.Subcommands.Add(DoctorCommand.Create());
// Signals are handled where work can stop cleanly (train); elsewhere the default applies, and
// every file is written atomically, so an interrupted command leaves no half-written output.
return root.Parse(args).Invoke(new InvocationConfiguration { ProcessTerminationTimeout = null });
