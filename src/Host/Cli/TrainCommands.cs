using System.CommandLine;
using HmmRnn.Core.HiddenMarkov;
using HmmRnn.Host.Tasks.Hmm;
using HmmRnn.Host.Output;
using HmmRnn.Host.Training;

namespace HmmRnn.Host.Cli;

/// <summary><c>train</c> and <c>evaluate</c>: RNNs that emulate the catalogue's HMMs.</summary>
internal static class TrainCommands
{
    public static Command Train()
    {
        var hmm = new Option<string>("--hmm") { Description = "Model to emulate: " + string.Join(", ", HmmCatalogue.Names), DefaultValueFactory = _ => "linear2" };
        var preset = new Option<string>("--preset") { Description = "quick: about 3–5 minutes on a laptop CPU (|h| 50, d 100, batch 512, lr 3e-3 warmed up over 200 steps, 80 epochs (linear2: 60); the paper's init; beside the Sinkhorn loss χ² pair terms at lags 1…20 and at each of the first 10 positions and 3- and 4-gram terms (weight 10 each), a term on the one-step transition matrix (weight 100), over a rollout of 2T, and an activity penalty 0.01·mean(h²); the best checkpoint by every verdict on the validation split: faithful emulators); paper: SPEC A3 (|h| 150, d 100, batch 4096, 1000 epochs, the Sinkhorn loss alone)", DefaultValueFactory = _ => "quick" };
        preset.AcceptOnlyFromAmong([.. HmmTrainingConfig.Presets]);
        var hidden = new Option<int?>("--hidden") { Description = "|h|, hidden units (overrides the preset)." };
        var input = new Option<int?>("--input") { Description = "d, noise dimensions (overrides the preset)." };
        var batch = new Option<int?>("--batch") { Description = "Sequences per batch (overrides the preset)." };
        var lr = new Option<double?>("--lr") { Description = "Adam learning rate (overrides the preset)." };
        var halfLife = new Option<double?>("--lr-half-life") { Description = "Epochs over which the learning rate halves (overrides the preset; paper: constant)." };
        var decayFrom = new Option<int?>("--lr-decay-from") { Description = "The epoch (from 0) at which the halving starts; constant before (overrides the preset; needs a half-life)." };
        var selection = new Option<string?>("--selection") { Description = "What picks the best checkpoint: loss (validation Sinkhorn divergence, paper) or transition (validation transition-matrix error; quick)." };
        selection.AcceptOnlyFromAmong([.. HmmTrainingConfig.Selections]);
        var pairs = new Option<double?>("--pair-weight") { Description = "Weight of the χ² penalty between generated and training symbol-pair frequencies, added to the Sinkhorn loss (overrides the preset; paper 0)." };
        var pairLags = new Option<int?>("--pair-lags") { Description = "The pair term covers lags 1 … N: one χ² per lag between generated and training P(o_t, o_t+k) (overrides the preset; 1: the one-step pairs)." };
        var startPairs = new Option<int?>("--start-pairs") { Description = "The one-step pair term is also taken at each of the first N positions alone, against the training split's pairs there (overrides the preset): a network run from h = 0 must not flicker while it settles." };
        var ngrams = new Option<int?>("--ngrams") { Description = "Also χ² terms over n-gram frequencies for n = 3 … N against the training split's (overrides the preset): they tell a one-step flicker from a two-step one." };
        var runLengths = new Option<int?>("--run-lengths") { Description = "Also a term over run lengths 1 … N: how often a run of each symbol starts and lasts at least L steps, against the training split's (overrides the preset; pair weight)." };
        var transition = new Option<double?>("--transition-weight") { Description = "Also a term on the one-step transition matrix itself, Σ (P̂(j|i) − P(j|i))² between the rollout's and the training split's row-normalised pairs, with this weight (overrides the preset): unlike the χ² pair term it weighs a rare symbol's row like any other, as the paper's success measure does." };
        var warmup = new Option<int?>("--warmup-steps") { Description = "The learning rate rises linearly to --lr over the first N optimiser steps (overrides the preset)." };
        var activity = new Option<double?>("--activity-weight") { Description = "Weight of the activity penalty mean(h²) over the training rollout (overrides the preset; paper 0)." };
        var rollout = new Option<int?>("--rollout") { Description = "Steps the network runs in training (≥ T): the Sinkhorn loss sees the first T, the pair terms and the activity penalty all (overrides the preset; paper T)." };
        var epochs = new Option<int?>("--epochs") { Description = "Epochs (overrides the preset)." };
        var train = new Option<int?>("--train-sequences") { Description = "Training sequences (overrides the preset)." };
        var identity = new Option<double?>("--recurrent-identity") { Description = "Added to W_hh's diagonal at initialisation (quick and paper: 0, the paper's init; identity inits made long runs by exploding activity, issue 24)." };
        var seed = new Option<long>("--seed") { Description = "Seed of data, weights and noise.", DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device") { Description = "cpu or cuda.", DefaultValueFactory = _ => "cpu" };
        device.AcceptOnlyFromAmong("cpu", "cuda");
        var output = new Option<string?>("--out") { Description = "Run folder (default runs/<hmm>-<preset>-s<seed>)." };
        var resume = new Option<bool>("--resume") { Description = "Continue from the folder's last checkpoint (same configuration)." };
        var evaluate = new Option<bool>("--no-evaluate") { Description = "Skip the evaluation after training." };
        var every = new Option<int>("--checkpoint-every") { Description = "Also keep checkpoints/epoch-NNNN.ckpt every N epochs (0: only best and last), to follow the dynamics across training.", DefaultValueFactory = _ => 0 };
        var tensorboard = new Option<bool>("--tensorboard") { Description = "Also write TensorBoard scalars to <out>/tensorboard." };
        var cmd = new Command("train", "Train an RNN to emit an HMM's sequences (Sinkhorn divergence, Gumbel-softmax outputs); then evaluate it.")
        {
            hmm, preset, hidden, input, batch, lr, halfLife, decayFrom, selection, pairs, pairLags, startPairs, ngrams, runLengths, transition, warmup, activity, rollout, epochs, train, identity, seed, device, output, resume, evaluate, tensorboard, every,
        };
        cmd.SetAction(async (r, token) =>
        {
            var aliases = new Dictionary<string, Option>
            {
                ["LearningRate"] = lr, ["LearningRateHalfLife"] = halfLife, ["LearningRateDecayFrom"] = decayFrom, ["PairWeight"] = pairs, ["NGrams"] = ngrams, ["RunLengths"] = runLengths, ["TransitionWeight"] = transition, ["TrainSequences"] = train, ["Hmm"] = hmm,
            };
            // The catalogue's own check, as data (the configuration would report an unknown model only through the catalogue's message).
            if (HmmCatalogue.Problem(r.GetValue(hmm)) is { } unknown) return Cli.Refuse(unknown with { Field = "Hmm" }, cmd.Options, aliases);
            HmmTrainingConfig config;
            try
            {
                var c = HmmTrainingConfig.Preset(r.GetValue(preset)!, r.GetValue(hmm)!);
                config = (c with
                {
                    Hidden = r.GetValue(hidden) ?? c.Hidden, Input = r.GetValue(input) ?? c.Input, Batch = r.GetValue(batch) ?? c.Batch,
                    LearningRate = r.GetValue(lr) ?? c.LearningRate, Epochs = r.GetValue(epochs) ?? c.Epochs,
                    LearningRateHalfLife = r.GetValue(halfLife) ?? c.LearningRateHalfLife, LearningRateDecayFrom = r.GetValue(decayFrom) ?? c.LearningRateDecayFrom, Selection = r.GetValue(selection) ?? c.Selection,
                    PairWeight = r.GetValue(pairs) ?? c.PairWeight, PairLags = r.GetValue(pairLags) ?? c.PairLags, StartPairs = r.GetValue(startPairs) ?? c.StartPairs, NGrams = r.GetValue(ngrams) ?? c.NGrams, RunLengths = r.GetValue(runLengths) ?? c.RunLengths, TransitionWeight = r.GetValue(transition) ?? c.TransitionWeight, WarmupSteps = r.GetValue(warmup) ?? c.WarmupSteps,
                    ActivityWeight = r.GetValue(activity) ?? c.ActivityWeight, Rollout = r.GetValue(rollout) ?? c.Rollout,
                    TrainSequences = r.GetValue(train) ?? c.TrainSequences, RecurrentIdentity = r.GetValue(identity) ?? c.RecurrentIdentity,
                    Seed = r.GetValue(seed), Device = r.GetValue(device)!,
                }).Validate();
            }
            catch (ValidationException e) { return Cli.Refuse(e.Violation, cmd.Options, aliases); }
            if (Devices.Problem(config.Device) is { } unavailable) return Cli.Refuse(unavailable, cmd.Options);
            if (r.GetValue(every) < 0) return Cli.Refuse(every, r.GetValue(every), "must be ≥ 0");
            var path = r.GetValue(output) ?? Path.Combine("runs", $"{config.Hmm}-{config.PresetName}-s{config.Seed}");
            if (!r.GetValue(resume) && File.Exists(Path.Combine(path, Trainer.LastCheckpoint))) return Cli.Fail(TrainingSession.AlreadyARun(path));
            if (r.GetValue(resume) && !File.Exists(Path.Combine(path, Trainer.LastCheckpoint))) return Cli.Fail(TrainingSession.NothingToResume(path));
            RunFolder folder;
            try { folder = RunFolder.Create(path); }
            catch (IOException e) { return Cli.Fail($"--out: {e.Message}"); }
            return await TrainAndEvaluate(folder, config, r.GetValue(resume), !r.GetValue(evaluate), r.GetValue(tensorboard), token, r.GetValue(every));
        });
        return cmd;
    }

    public static Command Evaluate()
    {
        var run = new Argument<string>("run") { Description = "A run folder written by 'train'." };
        var sequences = new Option<int>("--sequences") { Description = "Sequences to generate from the RNN.", DefaultValueFactory = _ => 10_000 };
        var seed = new Option<long>("--seed") { Description = "Seed of the generated sequences.", DefaultValueFactory = _ => 1 };
        var cmd = new Command("evaluate", "Generate from a trained RNN and compare with its HMM (SPEC A4): transition matrix, matched distance, volatility, dwell times, log-likelihood; writes evaluation.json/.md and PNGs.")
        {
            run, sequences, seed,
        };
        cmd.SetAction(r =>
        {
            var path = r.GetValue(run)!;
            if (new EvaluationOptions(r.GetValue(sequences)).Problem() is { } problem) return Cli.Refuse(problem, cmd.Options);
            if (Cli.OpenRun(path) is not { } folder) return ExitCode.UsageError;
            using var held = Lock(folder, "run");
            if (held is null) return ExitCode.UsageError;
            return Cli.Reading(() =>
            {
                var report = Evaluation.Run(folder, r.GetValue(sequences), r.GetValue(seed));
                Console.Out.Write(report.Markdown);
            });
        });
        return cmd;
    }

    internal static async Task<int> TrainAndEvaluate(RunFolder folder, HmmTrainingConfig config, bool resume, bool evaluate, bool tensorboard, CancellationToken token,
        int checkpointEvery = 0)
    {
        // The folder is this process's from the training through the evaluation.
        using var held = Lock(folder);
        if (held is null) return ExitCode.UsageError;
        var (code, _, _) = await TrainingSession.RunLocked(folder, config, resume, tensorboard, checkpointEvery, token);
        if (code != 0 || !evaluate) return code;
        var report = Evaluation.Run(folder, 10_000, 1);
        Console.Out.Write(report.Markdown);
        Console.Error.WriteLine($"wrote {folder.Path}");
        return 0;
    }

    /// <summary>Takes <paramref name="folder"/>'s <see cref="RunLock"/>, or prints why not (one line, naming <paramref name="what"/>: the option or argument that gave the folder) and returns null.</summary>
    internal static RunLock? Lock(RunFolder folder, string what = "--out")
    {
        try { return RunLock.Acquire(folder); }
        catch (IOException e) { Cli.Fail($"{what}: {e.Message}"); return null; }
    }

    /// <summary>
    /// Trains any task in a run folder, owning it (<see cref="RunLock"/>) for the training: a second training into the
    /// same folder is refused (exit 2). See <see cref="TrainingSession.RunLocked"/>.
    /// </summary>
    internal static async Task<(int Code, TrainingFinished? Result)> Execute(RunFolder folder, ITaskConfig config, bool resume, bool tensorboard,
        int checkpointEvery, CancellationToken token)
    {
        using var held = Lock(folder);
        if (held is null) return (ExitCode.UsageError, null);
        var (code, result, _) = await TrainingSession.RunLocked(folder, config, resume, tensorboard, checkpointEvery, token);
        return (code, result);
    }

}
