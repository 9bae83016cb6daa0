using System.CommandLine;
using HmmRnn.Core;
using HmmRnn.Core.Ibl;
using HmmRnn.Host.Output;
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
            "evaluated (run folder with metrics, checkpoints, PNGs); and the Bayesian IBL agents. Writes under --out.")
        {
            seed, output, epochs,
        };
        cmd.SetAction(async (r, token) =>
        {
            var s = r.GetValue(seed);
            var root = r.GetValue(output)!;
            Console.Error.WriteLine("1/3  exact output statistics of linear3 (Torre et al. 2025) against 2,000 sampled sequences");
            HmmCommands.Print(HmmCatalogue.Named("linear3"), 2_000, s);

            Console.Error.WriteLine($"2/3  an RNN trained for {r.GetValue(epochs)} epochs to emit linear3's sequences (quick preset; 'train' runs 50)");
            RunFolder hmmRun, iblRun;
            try
            {
                hmmRun = RunFolder.Create(Path.Combine(root, $"linear3-s{s}"));
                iblRun = RunFolder.Create(Path.Combine(root, "ibl"));
            }
            catch (IOException e) { return Cli.Fail($"--out: {e.Message}"); }
            foreach (var stale in new[] { Trainer.LastCheckpoint, Trainer.BestCheckpoint, "metrics.csv", "events.jsonl" })
                if (File.Exists(hmmRun.PathOf(stale))) File.Delete(hmmRun.PathOf(stale)); // a demo starts afresh
            var config = HmmTrainingConfig.Preset("quick", "linear3") with { Epochs = r.GetValue(epochs), Seed = s };
            var code = await TrainCommands.TrainAndEvaluate(hmmRun, config, resume: false, evaluate: true, tensorboard: false, token);
            if (code != 0) return code;

            Console.Error.WriteLine("3/3  Bayesian actors on the IBL task (Schaeffer et al. 2020), 20 sessions × 500 trials each; \"reference\" is the paper's 86.4% actor");
            IblCommands.Run(iblRun, IblTaskConfig.Paper, "paper", ["markov", "semi-markov", "forced", "reference"], 20, 500, s);
            Console.Error.WriteLine($"done: {Path.GetFullPath(root)} (evaluation.md and *.png in each folder)");
            return 0;
        });
        return cmd;
    }
}
