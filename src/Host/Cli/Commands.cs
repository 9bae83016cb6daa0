using System.CommandLine;

namespace HmmRnn.Host.Cli;

/// <summary>The command line: every verb under one root.</summary>
internal static class Commands
{
    public static RootCommand Root()
    {
        var root = new RootCommand(
            "HmmRnn: RNNs that emulate hidden Markov models, and exact Bayesian baselines of the IBL task.\n" +
            "Run 'hmmrnn demo' for a quick tour, 'hmmrnn run experiments/hmm-quick.json' for a whole experiment with its report; " +
            "'hmmrnn <command> --help' for each command.");
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(ExperimentCommands.Run());
        root.Subcommands.Add(ExperimentCommands.ReportCommand());
        root.Subcommands.Add(ExperimentCommands.SweepCommand());
        root.Subcommands.Add(HmmCommands.Create());
        root.Subcommands.Add(TrainCommands.Train());
        root.Subcommands.Add(TrainCommands.Evaluate());
        root.Subcommands.Add(AnalyzeCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(IblCommands.Create());
        root.Subcommands.Add(BenchCommands.Create());
        root.Subcommands.Add(DoctorCommand.Create());
        return root;
    }
}
