using System.CommandLine;
using System.Diagnostics;
using HmmRnn.Analysis.HmmEmulation;
using HmmRnn.Analysis.Dynamics;
using HmmRnn.Host.Output;
using HmmRnn.Host.Tasks.Hmm;
using HmmRnn.Host.Training;

namespace HmmRnn.Host.Cli;

/// <summary><c>analyze</c>: open up an HMM-emulating network (Torre et al. 2025, SPEC A5).</summary>
internal static class AnalyzeCommand
{
    /// <summary>The names <c>--only</c> takes; resonance (the σ sweep, run on torch) has no flag of its own.</summary>
    private static readonly IReadOnlyDictionary<string, HmmAnalyses> Analyses = new Dictionary<string, HmmAnalyses>
    {
        ["fixed-points"] = HmmAnalyses.FixedPoints, ["orbit"] = HmmAnalyses.Orbit, ["residency"] = HmmAnalyses.Residency,
        ["kick-units"] = HmmAnalyses.KickUnits, ["gain"] = HmmAnalyses.Gain, ["resonance"] = HmmAnalyses.None,
    };

    public static Command Create()
    {
        var run = new Argument<string>("run") { Description = "A run folder written by 'train'." };
        var checkpoint = new Option<string>("--checkpoint") { Description = "best, last, or an epoch number kept by --checkpoint-every.", DefaultValueFactory = _ => "best" };
        var steps = new Option<int?>("--steps") { Description = "Steps of the noisy run (default: 5,000 for a 2-state HMM, 10,000 otherwise, as the reference)." };
        var sigma = new Option<double>("--sigma") { Description = "Input noise σ of the noisy run and the trained value the sweep is scaled by (training used 1).", DefaultValueFactory = _ => 1.0 };
        var sequences = new Option<int>("--resonance-sequences") { Description = "Sequences generated per σ in the stochastic-resonance sweep.", DefaultValueFactory = _ => 2_000 };
        var points = new Option<int>("--resonance-points") { Description = "σ values from 0 to 3× the trained σ.", DefaultValueFactory = _ => 13 };
        var checkpoints = new Option<int>("--resonance-checkpoints") { Description = "Saved epoch checkpoints (--checkpoint-every) also swept, evenly picked; 0 for none.", DefaultValueFactory = _ => 4 };
        var episodes = new Option<int?>("--episode-length") { Description = "Restart the noisy run from h = 0 every L steps (default: one long run as the reference; episodes of the training length if that run diverges)." };
        var seed = new Option<long>("--seed") { Description = "Seed of the noise.", DefaultValueFactory = _ => 1 };
        var rise = new Option<double>("--kick-rise") { Description = "A kick unit's activity must rise this many SDs above its mean in the 3 steps before exits from slow runs.", DefaultValueFactory = _ => KickOptions.Default.MinRise };
        var only = new Option<string?>("--only")
        {
            Description = "Run only these analyses, comma-separated: " + string.Join(", ", Analyses.Keys) +
                          " (the noisy run and its PCA always run; figures of analyses not run are left as an earlier run wrote them). Default: all.",
        };
        var cmd = new Command("analyze", "Open up an RNN trained by 'train' (SPEC A5): a long noisy run and its PCA, the readouts' angles to the PC plane, " +
                                         "what the dynamics do without noise, emission against orbit phase, residency, kick units with ablation and gain modulation, and stochastic resonance (emission error against the input noise σ, " +
                                         "also across saved checkpoints). Writes analysis.json, analysis.md and PNGs into the run folder. For IBL runs use 'ibl analyze'.")
        {
            run, checkpoint, steps, sigma, sequences, points, checkpoints, episodes, seed, only, rise,
        };
        cmd.SetAction(r =>
        {
            var path = r.GetValue(run)!;
            var chosen = HmmAnalyses.All;
            var resonanceChosen = true;
            if (r.GetValue(only) is { } list)
            {
                var names = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                if (names.Length == 0) return Cli.Refuse(only, list, "must name an analysis; known: " + string.Join(", ", Analyses.Keys));
                if (names.FirstOrDefault(x => !Analyses.ContainsKey(x)) is { } bad)
                    return Cli.Refuse(only, bad, "unknown analysis; known: " + string.Join(", ", Analyses.Keys));
                chosen = names.Aggregate(HmmAnalyses.None, (a, x) => a | Analyses[x]);
                resonanceChosen = names.Contains("resonance");
            }
            var options = new HmmAnalysisOptions(Steps: r.GetValue(steps), Sigma: r.GetValue(sigma), EpisodeLength: r.GetValue(episodes), Analyses: chosen,
                Kick: KickOptions.Default with { MinRise = r.GetValue(rise) });
            if (options.Problem() is { } problem)
                return Cli.Refuse(problem, cmd.Options, new Dictionary<string, Option> { ["Kick.MinRise"] = rise, ["EpisodeLength"] = episodes });
            // The sweep scales the trained σ: σ = 0 (allowed for the noisy run of an experiment's analysis) would sweep nothing.
            if (!(r.GetValue(sigma) > 0)) return Cli.Refuse(sigma, r.GetValue(sigma), "must be finite and > 0 (the resonance sweep scales it)");
            var resonance = new ResonanceOptions(r.GetValue(points), 3, r.GetValue(sequences), r.GetValue(checkpoints));
            if (resonance.Problem() is { } sweep)
                return Cli.Refuse(sweep, cmd.Options, new Dictionary<string, Option> { ["Points"] = points, ["Sequences"] = sequences, ["Checkpoints"] = checkpoints });
            if (Trainer.CheckpointProblem(r.GetValue(checkpoint)) is { } which) return Cli.Refuse(which, cmd.Options);
            if (Cli.OpenRun(path) is not { } folder) return ExitCode.UsageError;
            using var held = TrainCommands.Lock(folder, "run");
            if (held is null) return ExitCode.UsageError;
            var clock = Stopwatch.StartNew();
            return Cli.Reading(() =>
            {
                HmmAnalysisOutput.Run(folder, r.GetValue(checkpoint)!, options, resonanceChosen ? resonance : null, r.GetValue(seed),
                    stage => Console.Error.WriteLine($"  {clock.Elapsed.TotalSeconds,6:F1} s  {stage}"));
                Console.Out.Write(File.ReadAllText(folder.PathOf("analysis.md")));
                Console.Error.WriteLine($"analysed in {clock.Elapsed.TotalSeconds:F1} s; wrote {folder.Path}/analysis.md, analysis.json and PNGs");
            });
        });
        return cmd;
    }
}
