using System.CommandLine;
using HmmRnn.Core.Ibl;
using HmmRnn.Analysis.Ibl;
using HmmRnn.Core.HiddenMarkov;
using HmmRnn.Host.Output;
using HmmRnn.Host.Tasks.Ibl;
using HmmRnn.Host.Tasks.Hmm;
using HmmRnn.Host.Training;

namespace HmmRnn.Host.Cli;

/// <summary><c>demo</c>: the quick default job a newcomer runs first (about a minute on a laptop CPU).</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var seed = new Option<long>("--seed") { Description = "Seed of every random draw.", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out") { Description = "Folder for the demo's runs.", DefaultValueFactory = _ => "runs/demo" };
        var epochs = new Option<int>("--epochs") { Description = "Training epochs (the quick preset uses 50).", DefaultValueFactory = _ => 12 };
        var cmd = new Command("demo",
            "A one-minute tour on the CPU: linear3's exact statistics against a sample; an RNN trained briefly to emulate it, then " +
            "evaluated (run folder with metrics, checkpoints, PNGs); the Bayesian IBL agents; and a tanh RNN trained on the IBL task and opened up. Writes under --out.")
        {
            seed, output, epochs,
        };
        cmd.SetAction(async (r, token) =>
        {
            var s = r.GetValue(seed);
            var root = r.GetValue(output)!;
            // Both trainings' configurations are checked before the first line of the tour (--epochs, --seed).
            var config = HmmTrainingConfig.Preset("quick", "linear3") with { Epochs = r.GetValue(epochs), Seed = s };
            var network = IblTrainingConfig.Preset("quick") with { Epochs = 6, Seed = s };
            try
            {
                config.Check();
                network.Check();
            }
            catch (ValidationException e) { return Cli.Refuse(e.Violation, cmd.Options); }
            RunFolder hmmRun, iblRun, networkRun;
            try
            {
                _ = RunFolder.Create(root); // an empty --out names no folder (the runs would land in the working folder)
                hmmRun = RunFolder.Create(Path.Combine(root, $"linear3-s{s}"));
                iblRun = RunFolder.Create(Path.Combine(root, "ibl"));
                networkRun = RunFolder.Create(Path.Combine(root, $"ibl-network-s{s}"));
            }
            catch (IOException e) { return Cli.Fail($"--out: {e.Message}"); }
            Console.Error.WriteLine("1/4  exact output statistics of linear3 (Torre et al. 2025) against 2,000 sampled sequences");
            HmmCommands.Print(HmmCatalogue.Named("linear3"), 2_000, s);

            Console.Error.WriteLine($"2/4  an RNN trained for {r.GetValue(epochs)} epochs to emit linear3's sequences (quick preset; 'train' runs {HmmTrainingConfig.Preset("quick", "linear3").Epochs})");
            foreach (var run in new[] { hmmRun, networkRun })
                foreach (var stale in new[] { Trainer.LastCheckpoint, Trainer.BestCheckpoint, MetricsLog.CsvName, MetricsLog.EventsName })
                    if (File.Exists(run.PathOf(stale))) File.Delete(run.PathOf(stale)); // a demo starts afresh
            var code = await TrainCommands.TrainAndEvaluate(hmmRun, config, resume: false, evaluate: true, tensorboard: false, token);
            if (code != 0) return code;

            Console.Error.WriteLine("3/4  Bayesian actors on the IBL task (Schaeffer et al. 2020), 20 sessions × 500 trials each; \"reference\" is the paper's 86.4% actor");
            IblCommands.Run(iblRun, IblTaskConfig.Paper, "paper", ["markov", "semi-markov", "forced", "reference"], 20, 500, s);

            Console.Error.WriteLine("4/4  a tanh RNN trained on the IBL task (quick preset, 300 of its 2,000 steps), then opened up ('ibl analyze')");
            var (trained, _) = await TrainCommands.Execute(networkRun, network, resume: false, tensorboard: false, checkpointEvery: 0, token);
            if (trained != 0) return trained;
            var report = IblAnalysisOutput.Run(networkRun, IblAnalysisOptions.Default with { Sessions = 10, TrialsPerSession = 500, RecordedTrials = 2000 }, s,
                progress: stage => Console.Error.WriteLine($"     {stage}"));
            Console.Error.WriteLine($"     accuracy {report.AccuracyTimeoutsWrong:F3} (time-outs wrong; the paper's RNN 0.855); analysis.md and PNGs in {networkRun.Path}");
            Console.Error.WriteLine($"done: {Path.GetFullPath(root)} (evaluation.md and *.png in each folder)");
            return 0;
        });
        return cmd;
    }
}
