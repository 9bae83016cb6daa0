using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using HmmRnn.Host.Cli;
using HmmRnn.Host.Output;
using HmmRnn.Host.Tasks.Hmm;
using HmmRnn.Host.Training;
using TorchSharp;
using static TorchSharp.torch;

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

/// <summary>Issue 20: a run folder is owned by one process at a time.</summary>
[Collection("torch")]
public class RunLockTests : TempFolderTest
{
    /// <summary>As TrainingTests' tiny run: linear3, 8 hidden units, a second or so of CPU an epoch at most.</summary>
    internal static HmmTrainingConfig Tiny(int epochs = 3) => HmmTrainingConfig.Preset("quick", "linear3") with
    {
        Hidden = 8, Input = 3, Batch = 128, TrainSequences = 256, ValidationSequences = 128, TestSequences = 0,
        Epochs = epochs, LogEvery = 1, Seed = 5,
    };

    private static (int Code, string Error) Capture(Func<Task<int>> run)
    {
        var error = new StringWriter();
        var saved = Console.Error;
        Console.SetError(error);
        try { return (run().GetAwaiter().GetResult(), error.ToString()); }
        finally { Console.SetError(saved); }
    }

    // Catches: trainings that do not take the folder's lock (both ran and garbled metrics.csv: "11.954bbatch,1,20…"), and a lock
    // not released at the end.
    [Fact]
    public void Two_concurrent_trainings_into_one_folder_one_is_refused_and_the_others_files_are_whole()
    {
        var folder = RunFolder.Create(Path.Combine(Root, "shared"));
        using var start = new Barrier(2);
        async Task<int> Train()
        {
            await Task.Yield();
            start.SignalAndWait();
            return (await TrainCommands.Execute(folder, Tiny(), resume: false, tensorboard: false, checkpointEvery: 0, CancellationToken.None)).Code;
        }
        var (codes, error) = Capture(async () =>
        {
            var both = await Task.WhenAll(Task.Run(Train), Task.Run(Train));
            return both.Min() * 10 + both.Max();
        });
        Assert.True(codes == 2, $"exit codes {codes / 10} and {codes % 10}, expected 0 and 2: {error}"); // 0·10 + 2
        Assert.Contains($"is in use by process {Environment.ProcessId} (its .lock)", error);

        // The winner's files are whole: the same as a training alone.
        var alone = RunFolder.Create(Path.Combine(Root, "alone"));
        Assert.Equal(0, Capture(async () => (await TrainCommands.Execute(alone, Tiny(), false, false, 0, CancellationToken.None)).Code).Code);
        Assert.Equal(MetricsLog.ReadEpochs(alone).Select(e => (e.Epoch, e.TrainLoss, e.ValidationLoss)),
            MetricsLog.ReadEpochs(folder).Select(e => (e.Epoch, e.TrainLoss, e.ValidationLoss)));
        Assert.Equal(File.ReadAllLines(alone.PathOf(MetricsLog.CsvName)).Select(l => l.Split(',').Length),
            File.ReadAllLines(folder.PathOf(MetricsLog.CsvName)).Select(l => l.Split(',').Length));
        var events = File.ReadAllLines(folder.PathOf(MetricsLog.EventsName)).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("type").GetString()).ToArray();
        Assert.Single(events, t => t == nameof(TrainingStarted));
        Assert.Equal(nameof(TrainingFinished), events[^1]);
        Assert.Equal(3, Checkpoint.ReadMeta(folder.PathOf(Trainer.LastCheckpoint)).Epoch);
        Assert.False(File.Exists(folder.PathOf(RunLock.FileName)), "the lock outlived the training");
        Assert.Empty(Directory.EnumerateFiles(folder.Path, "*.tmp", SearchOption.AllDirectories));
    }

    // Catches: a lock that does not name its holder, that is checked after config.json is written, or that is ignored.
    [Fact]
    public void A_folder_held_by_another_running_process_is_refused_naming_it_and_nothing_is_written()
    {
        using var other = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
        try
        {
            var path = Path.Combine(Root, "held");
            Directory.CreateDirectory(path);
            File.WriteAllText(Path.Combine(path, RunLock.FileName), $"{other.Id}\n");
            var (code, error) = Hmmrnn.Run("train", "--hmm", "linear3", "--hidden", "8", "--epochs", "1", "--out", path, "--no-evaluate");
            Assert.Equal(2, code);
            Assert.Single(error.Trim().Split('\n'));
            Assert.Contains($"is in use by process {other.Id}", error);
            Assert.Equal([RunLock.FileName], Directory.EnumerateFileSystemEntries(path).Select(Path.GetFileName));
        }
        finally { other.Kill(); }
    }

    // Catches: an experiment's training stage that does not take its point folder's lock (a second 'run' or shard trains beside the first).
    [Fact]
    public void An_experiment_point_held_by_another_process_is_refused_before_its_training()
    {
        using var other = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
        try
        {
            var file = TinyExperiments.Write(Root, "held", $"{TinyExperiments.Training}, \"analyses\": []");
            var output = Path.Combine(Root, "out");
            var point = Path.Combine(output, "points", "s0");
            Directory.CreateDirectory(point);
            File.WriteAllText(Path.Combine(point, RunLock.FileName), $"{other.Id}\n");
            var (code, error) = Hmmrnn.Run("run", file, "--out", output);
            Assert.Equal(2, code);
            Assert.Contains($"point s0: {Path.GetFullPath(point)} is in use by process {other.Id}", error);
            Assert.Equal([RunLock.FileName], Directory.EnumerateFileSystemEntries(point).Select(Path.GetFileName));
        }
        finally { other.Kill(); }
    }

    // Catches: a lock left by a killed process that blocks the folder for ever.
    [Fact]
    public void A_lock_left_by_a_process_that_has_exited_is_taken_over_and_released()
    {
        int dead;
        using (var gone = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!) { gone.WaitForExit(); dead = gone.Id; }
        var folder = RunFolder.Create(Path.Combine(Root, "stale"));
        File.WriteAllText(folder.PathOf(RunLock.FileName), $"{dead}\n");
        var (code, error) = Capture(async () => (await TrainCommands.Execute(folder, Tiny(epochs: 1), false, false, 0, CancellationToken.None)).Code);
        Assert.True(code == 0, error);
        Assert.False(File.Exists(folder.PathOf(RunLock.FileName)));
        using (RunLock.Acquire(folder))
            Assert.Throws<RunFolderInUseException>(() => RunLock.Acquire(folder)); // held: also within this process
        Assert.False(File.Exists(folder.PathOf(RunLock.FileName)));
    }
}

/// <summary>Issue 20: a diverged training stops with one line and exit 1, and no checkpoint holds weights that are not finite.</summary>
[Collection("torch")]
public class DivergenceTests : TempFolderTest
{
    private static (int Code, string Error) Capture(Func<Task<int>> run)
    {
        var error = new StringWriter();
        var saved = Console.Error;
        Console.SetError(error);
        try { return (run().GetAwaiter().GetResult(), error.ToString()); }
        finally { Console.SetError(saved); }
    }

    /// <summary>Every checkpoint the run kept, each checked to hold finite weights (read without <see cref="Checkpoint.Load"/>'s own check).</summary>
    private static void AssertNoCheckpointIsNonFinite(RunFolder folder)
    {
        foreach (var file in Directory.EnumerateFiles(folder.PathOf("checkpoints")))
        {
            using var model = new HmmRnnModel(8, 3, 3);
            var e = Record.Exception(() => Checkpoint.Load(file, model, null));
            Assert.True(e is null, $"{Path.GetFileName(file)}: {e?.Message}");
            var w = model.Snapshot();
            Assert.All(w.RecurrentWeights.Concat(w.InputWeights).Concat(w.Readout), x => Assert.True(double.IsFinite(x), $"{Path.GetFileName(file)} holds {x}"));
        }
    }

    // Catches: a training whose loss is NaN from epoch 1 that runs to its end and exits 0 (issue 20: 'train --hmm linear3 --lr 1e4'),
    // keeping the NaN network as best.ckpt (selection by transition error, which stays finite for NaN weights).
    [Theory]
    [InlineData("lr")]
    [InlineData("identity")]
    public void A_diverging_training_stops_with_one_line_and_exit_1_and_keeps_no_NaN_checkpoint(string cause)
    {
        var config = RunLockTests.Tiny(epochs: 4) with { Selection = "transition" };
        config = cause == "lr" ? config with { LearningRate = 1e4 } : config with { RecurrentIdentity = 1e30 };
        var folder = RunFolder.Create(Path.Combine(Root, cause));
        var (code, error) = Capture(async () => (await TrainCommands.Execute(folder, config, false, false, 0, CancellationToken.None)).Code);
        Assert.Equal(1, code);
        var failure = error.Split('\n').Single(l => l.StartsWith("training failed:", StringComparison.Ordinal));
        // lr: the first step's update overflows every later batch (skipped, OptimizerSteps.Take), and the validation of epoch 1
        // sees the network first; identity: every step's loss is NaN, and the limit in a row (Tiny: 2) ends the run.
        Assert.Matches(@"^training failed: diverged at epoch 1: the (training loss of step \d+ is (NaN|∞|-∞|Infinity|-Infinity) \(2 steps in a row not finite, none applied\)|validation (loss|score) is NaN); no best checkpoint was written, checkpoints/last.ckpt holds epoch 0; ", failure);
        Assert.DoesNotContain("finished after", error);
        var last = File.ReadAllLines(folder.PathOf(MetricsLog.EventsName))[^1];
        Assert.Contains("\"type\":\"TrainingFailed\"", last);
        AssertNoCheckpointIsNonFinite(folder);
        Assert.False(File.Exists(folder.PathOf(RunLock.FileName)));
    }

    // Catches: weights that stop being finite while the loss still is (the loop checks the weights before it validates and saves),
    // and a NaN validation score; either would be saved as last.ckpt, and as best.ckpt when the transition error stays low.
    [Theory]
    [InlineData(Mode.NaNWeights, "the weights are not finite (")]
    [InlineData(Mode.NaNScore, "the validation score is NaN")]
    public void Divergence_after_a_best_epoch_keeps_that_best_checkpoint_and_the_last_finite_one(Mode mode, string what)
    {
        var folder = RunFolder.Create(Path.Combine(Root, mode.ToString()));
        var config = new Wrapped(RunLockTests.Tiny(epochs: 4) with { Selection = "transition" }, mode, FromEpoch: 2);
        var events = new List<TrainingEvent>();
        var e = Assert.Throws<TrainingDivergedException>(() => { foreach (var x in Trainer.Run(config, folder)) events.Add(x); });
        Assert.Equal(3, e.Epoch);
        Assert.Contains($"diverged at epoch 3: {what}", e.Message);
        var best = events.OfType<EpochCompleted>().Last(x => x.IsBest).Epoch;
        Assert.Contains($"the last finite best checkpoint is kept (checkpoints/best.ckpt, epoch {best}), checkpoints/last.ckpt holds epoch 2", e.Message);
        Assert.DoesNotContain(events.OfType<EpochCompleted>(), x => x.Epoch == 3);
        Assert.Equal(best, Checkpoint.ReadMeta(folder.PathOf(Trainer.BestCheckpoint)).Epoch);
        Assert.Equal(2, Checkpoint.ReadMeta(folder.PathOf(Trainer.LastCheckpoint)).Epoch);
        AssertNoCheckpointIsNonFinite(folder);
    }

    /// <summary>An optimiser's state as bytes, written at a learning rate of 1 (a rollback halves the rate, not the moments); the rate is put back.</summary>
    private static byte[] OptimiserBytes(TorchSharp.Modules.OptimizerHelper optimizer)
    {
        var rate = optimizer.ParamGroups.First().LearningRate;
        OptimizerSteps.SetLearningRate(optimizer, 1);
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) optimizer.save_state_dict(writer);
        OptimizerSteps.SetLearningRate(optimizer, rate);
        return stream.ToArray();
    }

    /// <summary>How <see cref="Wrapped"/> spoils a tiny HMM run.</summary>
    public enum Mode { InfiniteScore, NaNWeights, NaNScore, NaNLossOnce, NaNLossFrom, NaNLossAcross, NaNLossAtFullRate }

    // Catches: a run ended by one batch whose loss is not finite (linear2's 200-step rollouts overflowed float32 in one batch at
    // seeds 1 and 10 and the whole training stopped), a skipped step left uncounted, and a skipped step's NaN mixed into the
    // epoch's mean loss.
    [Fact]
    public void One_step_whose_loss_is_not_finite_is_skipped_and_counted_and_the_run_goes_on()
    {
        var config = new Wrapped(RunLockTests.Tiny(epochs: 3), Mode.NaNLossOnce, FromEpoch: 1);
        var events = Trainer.Run(config, RunFolder.Create(Path.Combine(Root, "once"))).ToList();
        Assert.Equal(3, events.OfType<TrainingFinished>().Single().EpochsCompleted);
        var epochs = events.OfType<EpochCompleted>().ToArray();
        Assert.Equal([0, 1, 0], epochs.Select(e => e.SkippedSteps));
        Assert.All(epochs, e => Assert.True(double.IsFinite(e.TrainLoss), $"epoch {e.Epoch}: {e.TrainLoss}"));
    }

    // Catches: a network whose every batch overflows trained on for ever with nothing applied (the limit of steps in a row, then
    // MaxRollbacks rollbacks), rollbacks that do not count (a run that rolls back for ever), and a run without a best checkpoint that
    // rolls back to nothing. Tiny has 2 steps an epoch, so the limit is 2.
    [Theory]
    [InlineData(1, "diverged at epoch 5: the training loss of step 2 is NaN (2 steps in a row not finite, none applied), after 3 rollbacks to the best checkpoint", new[] { 1, 2, 3, 4 })]
    [InlineData(0, "diverged at epoch 1: the training loss of step 2 is NaN (2 steps in a row not finite, none applied); no best checkpoint", new int[0])]
    public void Steps_whose_loss_is_not_finite_end_the_run_when_a_whole_limit_of_them_come_in_a_row_after_the_last_rollback(int from, string message, int[] completed)
    {
        Assert.Equal((1, 2, 10, 10), (Trainer.SkipLimit(1), Trainer.SkipLimit(2), Trainer.SkipLimit(20), Trainer.SkipLimit(10)));
        var folder = RunFolder.Create(Path.Combine(Root, $"from{from}"));
        var events = new List<TrainingEvent>();
        var config = new Wrapped(RunLockTests.Tiny(epochs: 8) with { Selection = "transition" }, Mode.NaNLossFrom, FromEpoch: from);
        var e = Assert.Throws<TrainingDivergedException>(() => { foreach (var x in Trainer.Run(config, folder)) events.Add(x); });
        Assert.Contains(message, e.Message);
        Assert.Equal(completed, events.OfType<EpochCompleted>().Select(x => x.Epoch));
        Assert.Equal([.. completed.Skip(1).Select((epoch, i) => (epoch, 1, Math.Pow(0.5, i + 1), i + 1))],
            events.OfType<RolledBack>().Select(r => (r.Epoch, r.ToEpoch, r.LearningRateScale, r.Count)));
        AssertNoCheckpointIsNonFinite(folder);
    }

    // Catches: a task that ignores the loop's learning-rate scale (a rollback would then retry at the same rate), or applies it in
    // the setter only, so that its own schedule overwrites it at the next step (the HMM task's warm-up sets the rate every step).
    [Fact]
    public void Every_task_trains_at_the_loops_learning_rate_scale()
    {
        ITaskConfig[] configs =
        [
            RunLockTests.Tiny(epochs: 1),
            HmmRnn.Host.Tasks.Ibl.IblTrainingConfig.Preset("quick") with
            {
                Hidden = 8, Sessions = 4, Truncation = 20, StepsPerEpoch = 1, Epochs = 1, ValidationSessions = 1, ValidationTrials = 20, Seed = 3,
            },
            HmmRnn.Host.Tasks.FlipFlop.FlipFlopConfig.Preset("quick") with { Hidden = 8, SequenceLength = 20, Batch = 8, StepsPerEpoch = 1, Epochs = 1, ValidationSequences = 8, Seed = 1 },
        ];
        foreach (var config in configs)
        {
            double RateAfterAStep(double scale)
            {
                using var task = config.Create(CPU);
                task.LearningRateScale = scale;
                using (var epoch = task.BeginEpoch(0)) epoch.Step(0);
                return task.Optimizer.ParamGroups.First().LearningRate;
            }
            Assert.Equal(0.25, RateAfterAStep(0.25) / RateAfterAStep(1), 12);
        }
    }

    // Catches: a limit of non-finite steps that straddles an epoch's end left uncounted (the count restarting at each epoch): the
    // last step of epoch 2 and the first of epoch 3 make the limit, and the run rolls back there.
    [Fact]
    public void Non_finite_steps_in_a_row_count_across_an_epochs_end()
    {
        var config = new Wrapped(RunLockTests.Tiny(epochs: 4) with { Selection = "transition" }, Mode.NaNLossAcross, FromEpoch: 1);
        var events = Trainer.Run(config, RunFolder.Create(Path.Combine(Root, "across"))).ToList();
        var rolled = Assert.Single(events.OfType<RolledBack>());
        Assert.Equal((3, 1), (rolled.Epoch, rolled.Step));
        Assert.Equal(4, events.OfType<TrainingFinished>().Single().EpochsCompleted);
    }

    // Catches: a rollback that keeps the overflowing weights (the run could never recover), one that does not reload the optimiser,
    // a learning rate not halved (or halved but not used by the task's warm-up), and a resume after a rollback that forgets it
    // (the resumed run would train at the full rate: not the uninterrupted run).
    [Fact]
    public void A_run_of_non_finite_steps_rolls_back_to_the_best_checkpoint_at_half_the_learning_rate_and_a_resume_keeps_it()
    {
        var tiny = RunLockTests.Tiny(epochs: 5) with { Selection = "transition" };
        var folder = RunFolder.Create(Path.Combine(Root, "rollback"));
        var trace = new List<(int Epoch, int Step, double Scale, double Rate)>();
        var config = new Wrapped(tiny, Mode.NaNLossAtFullRate, FromEpoch: 2) { Trace = trace };
        HmmRnn.Core.Rnn.ReluRnnWeights? atRollback = null;
        byte[]? optimiserAtRollback = null;
        var events = new List<TrainingEvent>();
        foreach (var e in Trainer.Run(config, folder))
        {
            events.Add(e);
            if (e is not RolledBack) continue;
            atRollback = config.Last!.Snapshot();
            optimiserAtRollback = OptimiserBytes(config.LastTask!.Optimizer);
        }
        var rolled = Assert.Single(events.OfType<RolledBack>());
        Assert.Equal((3, 2, 0.5, 1), (rolled.Epoch, rolled.Step, rolled.LearningRateScale, rolled.Count));
        var best = events.OfType<EpochCompleted>().Where(x => x.Epoch < 3).Last(x => x.IsBest).Epoch;
        Assert.Equal(best, rolled.ToEpoch);
        using (var model = new HmmRnnModel(8, 3, 3))
        {
            using var adam = torch.optim.Adam(model.parameters(), beta1: tiny.Beta1, beta2: tiny.Beta2);
            Checkpoint.Load(folder.PathOf(Trainer.BestCheckpoint), model, adam); // best is not replaced by epoch 3: its weights are best's
            Assert.Equal(model.Snapshot(), atRollback);
            Assert.Equal(OptimiserBytes(adam), optimiserAtRollback); // Adam's moments and step count too
        }
        // Every step after the rollback ran at half of the schedule's rate (warm-up included).
        Assert.All(trace.Where(t => t.Epoch >= 3), t => Assert.Equal(0.5, t.Scale));
        Assert.All(trace, t => Assert.Equal(tiny.LearningRateAt(t.Epoch, (long)t.Epoch * 2 + t.Step) * t.Scale, t.Rate, 12));
        var meta = Checkpoint.ReadMeta(folder.PathOf(Trainer.LastCheckpoint));
        Assert.Equal((5, 0.5, 1), (meta.Epoch, meta.LearningRateScale, meta.Rollbacks));

        // Stopped after epoch 3 and resumed: the same weights as the uninterrupted run.
        var parted = RunFolder.Create(Path.Combine(Root, "rollback-resumed"));
        _ = Trainer.Run(new Wrapped(tiny with { Epochs = 3 }, Mode.NaNLossAtFullRate, FromEpoch: 2), parted).ToList();
        var resumed = new Wrapped(tiny, Mode.NaNLossAtFullRate, FromEpoch: 2);
        Assert.Empty(Trainer.Run(resumed, parted, resume: true).OfType<RolledBack>());
        using var whole = new HmmRnnModel(8, 3, 3);
        using var split = new HmmRnnModel(8, 3, 3);
        Checkpoint.Load(folder.PathOf(Trainer.LastCheckpoint), whole, null);
        Checkpoint.Load(parted.PathOf(Trainer.LastCheckpoint), split, null);
        Assert.Equal(whole.Snapshot(), split.Snapshot());
    }

    // Catches: skipped steps the console does not mention (a run that skips would look like one that does not).
    [Fact]
    public void The_console_says_how_many_steps_an_epoch_skipped()
    {
        var output = new StringWriter();
        var sink = new ConsoleProgress(output);
        sink.OnNext(new TrainingStarted(TimeSpan.Zero, RunLockTests.Tiny(), 10, 0, 2, "cpu"));
        sink.OnNext(new EpochCompleted(TimeSpan.FromSeconds(1), 1, 2.5, 3.5, true, 3.5, 1) { SkippedSteps = 1 });
        sink.OnNext(new EpochCompleted(TimeSpan.FromSeconds(2), 2, 2.5, 3.5, false, 3.5, 1));
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.EndsWith("1 step skipped (loss or gradient not finite)", lines[1].TrimEnd());
        Assert.DoesNotContain("skipped", lines[2]);
    }

    // Catches: a best checkpoint chosen by a score of +∞ (or NaN): "best" must stay the epoch with the lowest finite score.
    [Fact]
    public void Validation_scores_that_are_not_finite_are_never_best()
    {
        var events = Trainer.Run(new Wrapped(RunLockTests.Tiny(epochs: 3), Mode.InfiniteScore, FromEpoch: 0), RunFolder.Create(Path.Combine(Root, "infinite"))).ToList();
        Assert.All(events.OfType<EpochCompleted>(), e => Assert.False(e.IsBest));
        Assert.Equal(0, events.OfType<TrainingFinished>().Single().BestEpoch);
        Assert.DoesNotContain(events.OfType<CheckpointSaved>(), c => c.IsBest);
    }

    // Catches: a checkpoint that does not record the run's matrix kernels, or a resume on other kernels (another
    // HMMRNN_MKL_AVX512, another node of a cluster) that goes on silently although it cannot be bit for bit.
    [Fact]
    public void A_resume_on_other_matrix_kernels_says_so_and_one_on_the_same_does_not()
    {
        var folder = RunFolder.Create(Path.Combine(Root, "kernels"));
        var config = RunLockTests.Tiny(epochs: 1);
        RunConfig.Write(folder, config);
        _ = Trainer.Run(config, folder).ToList();
        var here = MklVendorCheck.Kernels(DeviceType.CPU);
        Assert.Equal(here, Checkpoint.ReadMeta(folder.PathOf(Trainer.LastCheckpoint)).MatrixKernels);
        Assert.Null(Trainer.Run(RunLockTests.Tiny(epochs: 2), folder, resume: true).OfType<TrainingStarted>().Single().Warning);

        using (var model = new HmmRnnModel(8, 3, 3))
        {
            using var optimizer = torch.optim.Adam(model.parameters());
            var meta = Checkpoint.Load(folder.PathOf(Trainer.LastCheckpoint), model, optimizer);
            Checkpoint.Save(folder, Trainer.LastCheckpoint, meta with { MatrixKernels = "elsewhere" }, model, optimizer);
        }
        var console = new StringWriter();
        var progress = new ConsoleProgress(console);
        foreach (var e in Trainer.Run(RunLockTests.Tiny(epochs: 3), folder, resume: true)) progress.OnNext(e);
        var warning = Assert.Single(console.ToString().Split('\n'), l => l.StartsWith("warning: ", StringComparison.Ordinal));
        Assert.Contains("'elsewhere'", warning);
        Assert.Contains($"'{here}'", warning);
    }

    // Catches: evaluate / analyze / export that read a NaN network and print numbers of it without a word.
    [Theory]
    [InlineData("evaluate")]
    [InlineData("analyze")]
    [InlineData("export")]
    public void Readers_refuse_a_checkpoint_whose_weights_are_not_finite_in_one_line(string command)
    {
        var folder = RunFolder.Create(Path.Combine(Root, "nan"));
        var config = RunLockTests.Tiny(epochs: 1);
        RunConfig.Write(folder, config);
        _ = Trainer.Run(config, folder).ToList();
        using (var model = new HmmRnnModel(8, 3, 3))
        {
            var meta = Checkpoint.Load(folder.PathOf(Trainer.BestCheckpoint), model, null);
            using (torch.no_grad()) model.parameters().First().fill_(double.NaN);
            using var optimizer = torch.optim.Adam(model.parameters());
            Checkpoint.Save(folder, Trainer.BestCheckpoint, meta, model, optimizer);
        }
        var before = Directory.EnumerateFiles(folder.Path).Order().ToArray();
        var (code, error) = Hmmrnn.Run(command, folder.Path);
        Assert.Equal(2, code);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains($"{folder.PathOf(Trainer.BestCheckpoint)}: its weights are not finite", error);
        Assert.Equal(before, Directory.EnumerateFiles(folder.Path).Order().ToArray());
    }

    /// <summary>
    /// A tiny HMM run spoilt from epoch <paramref name="FromEpoch"/> (from 0) on: a validation score of +∞ (as 'faithful' selection gives an
    /// unbounded network), NaN weights after the epoch's last step (every loss still finite), or a NaN validation score.
    /// </summary>
    private sealed record Wrapped(HmmTrainingConfig Inner, Mode Spoil, int FromEpoch) : ITaskConfig
    {
        /// <summary>Where each step's epoch, learning-rate scale and the optimiser's rate after it are written (null: nowhere).</summary>
        public List<(int Epoch, int Step, double Scale, double Rate)>? Trace { get; init; }

        /// <summary>The model of the last task created.</summary>
        public HmmRnnModel? Last => (HmmRnnModel?)last?.Model;

        /// <summary>The last task created.</summary>
        public ITrainingTask? LastTask => last;
        private ITrainingTask? last;

        public string Task => Inner.Task;
        public long Seed => Inner.Seed;
        public int Epochs => Inner.Epochs;
        public int LogEvery => Inner.LogEvery;
        public string Device => Inner.Device;
        public string Describe() => Inner.Describe();
        public string TaskMetric => Inner.TaskMetric;
        public string Hash() => Inner.Hash();
        public void Check() => Inner.Check();
        public ITrainingTask Create(torch.Device device) => last = new Spoilt(Inner.Create(device), this);

        private sealed class Spoilt(ITrainingTask inner, Wrapped how) : ITrainingTask
        {
            private int _epoch;
            public nn.Module Model => inner.Model;
            public TorchSharp.Modules.OptimizerHelper Optimizer => inner.Optimizer;
            public int StepsPerEpoch => inner.StepsPerEpoch;
            public double LearningRateScale { get => inner.LearningRateScale; set => inner.LearningRateScale = value; }
            public Wrapped How => how;
            public ITrainingEpoch BeginEpoch(int epoch) => new Epoch(inner.BeginEpoch(_epoch = epoch), this);
            private bool Is(Mode mode) => how.Spoil == mode && _epoch >= how.FromEpoch;
            private bool IsFirstSpoilt(Mode mode) => how.Spoil == mode && _epoch == how.FromEpoch;
            private bool IsSecondSpoilt(Mode mode) => how.Spoil == mode && _epoch == how.FromEpoch + 1;

            public Validation Validate()
            {
                var v = inner.Validate();
                return Is(Mode.InfiniteScore) ? v with { Score = double.PositiveInfinity } : Is(Mode.NaNScore) ? v with { Score = double.NaN } : v;
            }

            public void Dispose() => inner.Dispose();

            private sealed class Epoch(ITrainingEpoch inner, Spoilt task) : ITrainingEpoch
            {
                public double Step(int step)
                {
                    // A step whose loss is not finite as OptimizerSteps.Take leaves it: nothing applied.
                    if (task.Is(Mode.NaNLossFrom) || (task.IsFirstSpoilt(Mode.NaNLossOnce) && step == 0) ||
                        (task.IsFirstSpoilt(Mode.NaNLossAcross) && step == task.StepsPerEpoch - 1) || (task.IsSecondSpoilt(Mode.NaNLossAcross) && step == 0) ||
                        (task.Is(Mode.NaNLossAtFullRate) && task.LearningRateScale == 1))
                        return double.NaN;
                    var loss = inner.Step(step);
                    task.How.Trace?.Add((task._epoch, step, task.LearningRateScale, task.Optimizer.ParamGroups.First().LearningRate));
                    if (task.Is(Mode.NaNWeights) && step == task.StepsPerEpoch - 1) // after the epoch's last step: no later loss shows it
                        using (torch.no_grad()) task.Model.parameters().First().fill_(double.NaN);
                    return loss;
                }

                public void Dispose() => inner.Dispose();
            }
        }
    }
}

/// <summary>Issue 20: a resume with nothing (whole) to resume is refused before anything is written.</summary>
[Collection("torch")]
public class ResumeRefusalTests : TempFolderTest
{
    private static (int Code, string Error) Capture(Func<Task<int>> run)
    {
        var error = new StringWriter();
        var saved = Console.Error;
        Console.SetError(error);
        try { return (run().GetAwaiter().GetResult(), error.ToString()); }
        finally { Console.SetError(saved); }
    }

    /// <summary>Every file under <paramref name="folder"/> with its bytes: what "nothing written" compares.</summary>
    private static Dictionary<string, string> Contents(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(folder, f), f => Convert.ToBase64String(File.ReadAllBytes(f)));

    // Catches: --resume with no last.ckpt that starts afresh on top of an old run (overwriting its best.ckpt, mixing its
    // metrics.csv), or creates an empty folder, without a word.
    [Theory]
    [InlineData("train", "old run")]
    [InlineData("train", "no folder")]
    [InlineData("ibl train", "old run")]
    public void Resume_without_a_last_checkpoint_is_refused_in_one_line_and_writes_nothing(string command, string what)
    {
        var path = Path.Combine(Root, "run");
        if (what == "old run")
        {
            Directory.CreateDirectory(Path.Combine(path, "checkpoints"));
            File.WriteAllText(Path.Combine(path, "config.json"), "{}");
            File.WriteAllText(Path.Combine(path, "metrics.csv"), "kind,epoch\n");
            File.WriteAllText(Path.Combine(path, "checkpoints", "best.ckpt"), "an old run's best network");
        }
        var before = what == "old run" ? Contents(path) : null;
        var (code, error) = Hmmrnn.Run([.. command.Split(' '), "--epochs", "1", "--out", path, "--resume"]);
        Assert.Equal(2, code);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains($"--resume: {path} has no checkpoints/last.ckpt, nothing to resume", error);
        if (before is null) Assert.False(Directory.Exists(path), "a folder was created");
        else Assert.Equal(before, Contents(path));
    }

    // Catches: the same refusal missing where the trainings meet (TrainCommands.Execute: the experiment pipeline, the demo),
    // or checked after config.json is written.
    [Fact]
    public void Execute_refuses_a_resume_with_no_last_checkpoint_before_writing()
    {
        var folder = RunFolder.Create(Path.Combine(Root, "empty"));
        var (code, error) = Capture(async () => (await TrainCommands.Execute(folder, RunLockTests.Tiny(), resume: true, false, 0, CancellationToken.None)).Code);
        Assert.Equal(2, code);
        Assert.Contains("nothing to resume", error);
        Assert.Empty(Directory.EnumerateFileSystemEntries(folder.Path));
    }

    // Catches: a resume that checks only the checkpoint's header (a file cut short passed, then failed after config.json and
    // events.jsonl were rewritten).
    [Fact]
    public void A_truncated_last_checkpoint_is_refused_before_config_json_or_the_logs_are_rewritten()
    {
        var folder = RunFolder.Create(Path.Combine(Root, "truncated"));
        Assert.Equal(0, Capture(async () => (await TrainCommands.Execute(folder, RunLockTests.Tiny(epochs: 1), false, false, 0, CancellationToken.None)).Code).Code);
        var last = folder.PathOf(Trainer.LastCheckpoint);
        var bytes = File.ReadAllBytes(last);
        File.WriteAllBytes(last, bytes[..^200]); // the metadata whole, the optimiser's section cut short
        File.SetLastWriteTimeUtc(folder.PathOf(RunConfig.FileName), new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var before = Contents(folder.Path);
        var (code, error) = Capture(async () => (await TrainCommands.Execute(folder, RunLockTests.Tiny(epochs: 2), resume: true, false, 0, CancellationToken.None)).Code);
        Assert.Equal(2, code);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains($"--resume: {last}: truncated or corrupt checkpoint", error);
        Assert.Equal(before, Contents(folder.Path));
        Assert.Equal(new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc), File.GetLastWriteTimeUtc(folder.PathOf(RunConfig.FileName)));
    }

    // Catches: temporary files of a write killed half-way (a checkpoint's, metrics.csv's) that stay in the run folder for
    // ever (issue 20: "leftover .tmp files after a kill during a write are never cleaned").
    [Fact]
    public void A_resumed_run_removes_the_temporary_files_a_killed_write_left()
    {
        var folder = RunFolder.Create(Path.Combine(Root, "killed"));
        Assert.Equal(0, Capture(async () => (await TrainCommands.Execute(folder, RunLockTests.Tiny(epochs: 1), false, false, 0, CancellationToken.None)).Code).Code);
        var leftovers = new[] { Path.Combine("checkpoints", ".last.ckpt.0123456789abcdef.tmp"), ".metrics.csv.fedcba9876543210.tmp" };
        foreach (var name in leftovers) File.WriteAllText(folder.PathOf(name), "half a write");
        File.WriteAllText(folder.PathOf("notes.tmp"), "not ours: no leading dot");
        var (code, error) = Capture(async () => (await TrainCommands.Execute(folder, RunLockTests.Tiny(epochs: 2), resume: true, false, 0, CancellationToken.None)).Code);
        Assert.True(code == 0, error);
        Assert.Contains("removed 2 temporary file(s) left by an interrupted write", error);
        Assert.All(leftovers, name => Assert.False(File.Exists(folder.PathOf(name)), name));
        Assert.True(File.Exists(folder.PathOf("notes.tmp")));
        Assert.Equal(2, Checkpoint.ReadMeta(folder.PathOf(Trainer.LastCheckpoint)).Epoch);
    }
}
