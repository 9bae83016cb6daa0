using System.Collections.Immutable;
using HmmRnn.Analysis.Ibl;
using HmmRnn.Core;
using HmmRnn.Core.Ibl;
using HmmRnn.Core.Rnn;
using HmmRnn.Host.Cli;
using HmmRnn.Host.Output;
using HmmRnn.Host.Tasks.Hmm;
using HmmRnn.Host.Tasks.Ibl;
using HmmRnn.Host.Training;
using static TorchSharp.torch;

namespace HmmRnn.Host.Tests;

[Collection("torch")]
public class IblTrainingTests : TempFolderTest
{
    /// <summary>A run small enough for CI: 16 units, 16 sessions, 20-step truncation.</summary>
    private static IblTrainingConfig Tiny(int epochs = 2) => IblTrainingConfig.Preset("quick") with
    {
        Hidden = 16, Sessions = 16, Truncation = 20, StepsPerEpoch = 10, Epochs = epochs, LearningRate = 3e-3, ValidationSessions = 2, ValidationTrials = 100,
        LogEvery = 5, Seed = 3,
    };

    private RunFolder Folder(string name) => RunFolder.Create(Path.Combine(Root, name));

    private static TanhRnnWeights WeightsIn(RunFolder folder, string checkpoint, int hidden = 16)
    {
        using var model = new IblRnnModel(hidden);
        Checkpoint.Load(folder.PathOf(checkpoint), model, null);
        return model.Snapshot();
    }

    [Fact]
    public void Network_agrees_with_Cores_tanh_dynamics_in_float64()
    {
        // One mathematics in two places: TorchSharp's RNN cell (two biases) and Core's TanhRnn (their sum).
        manual_seed(5);
        using var model = new IblRnnModel(12);
        var w = model.Snapshot();
        var rng = Rng.FromSeed(4);
        var inputs = new double[9 * 3];
        rng.FillNormal(inputs);
        var reference = TanhRnn.Run(w, new double[12], inputs);
        var h = zeros([1, 12], float64);
        for (int t = 0; t < 9; t++)
        {
            (h, var logp) = model.call(tensor(inputs[(3 * t)..(3 * t + 3)], [1, 3], float64), h);
            var hv = h.data<double>().ToArray();
            for (int i = 0; i < 12; i++) Assert.Equal(reference.Hidden[t * 12 + i], hv[i], 1e-12);
            var p = logp.exp().data<double>().ToArray();
            var q = TanhRnn.Softmax(reference.Logits.AsSpan(t * 2, 2));
            Assert.Equal(q[0], p[0], 1e-12);
            Assert.Equal(q[1], p[1], 1e-12);
        }
        Assert.Contains(reference.Hidden, x => Math.Abs(x) > 0.1); // not a trivially silent network
    }

    [Fact]
    public void A_short_run_learns_the_easy_trials()
    {
        // Chance is 0.5; an untrained network mostly times out. After 60 steps of 16 sessions the
        // network acts on the high-contrast trials (μ ≥ 1.5) and gets them mostly right.
        var config = Tiny(epochs: 6);
        var folder = Folder("learn");
        var events = Trainer.Run(config, folder).ToList();
        var w = WeightsIn(folder, Trainer.LastCheckpoint);
        var trials = IblSimulation.RunSessions(IblTaskConfig.Paper, new RnnPolicy(w), 4, 500, Rng.FromSeed(77));
        var easy = Accuracy.Of(trials.Where(t => t.Trial.Contrast >= 1.5));
        Assert.True(easy.Value(TimeoutPolicy.CountAsWrong) > 0.8, $"high-contrast accuracy {easy.Value(TimeoutPolicy.CountAsWrong):F3}");
        var first = events.OfType<EpochCompleted>().First();
        Assert.InRange(first.Metrics["accuracy"], 0.0, 1.0);
        Assert.InRange(first.Metrics["timeouts"], 0.0, 1.0);
        Assert.Equal(1 - first.Metrics["accuracy"], first.ValidationLoss, 1e-12);
    }

    [Fact]
    public void Killed_and_resumed_run_is_bit_identical_to_an_uninterrupted_one()
    {
        var whole = Folder("whole");
        _ = Trainer.Run(Tiny(epochs: 3), whole).ToList();
        var parts = Folder("parts");
        _ = Trainer.Run(Tiny(epochs: 1), parts).ToList();
        _ = Trainer.Run(Tiny(epochs: 3), parts, resume: true).ToList();
        Assert.Equal(WeightsIn(whole, Trainer.LastCheckpoint), WeightsIn(parts, Trainer.LastCheckpoint));
    }

    [Fact]
    public void Whole_session_mode_plays_each_session_to_its_last_block()
    {
        // The paper preset's shape (one session of blocks per step, fresh from h = 0), made tiny: one block.
        var config = Tiny(epochs: 1) with { Loss = IblLoss.Paper, Sessions = 2, Truncation = 0, BlocksPerSession = 1, StepsPerEpoch = 2, Optimizer = IblOptimizer.Sgd, LearningRate = 1e-3 };
        var events = Trainer.Run(config, Folder("whole-session")).ToList();
        var epoch = Assert.Single(events.OfType<EpochCompleted>());
        Assert.True(double.IsFinite(epoch.TrainLoss) && epoch.TrainLoss > 0, $"train loss {epoch.TrainLoss}"); // cross-entropy > 0
    }

    [Fact]
    public void Config_json_names_the_task_and_commands_refuse_the_other_tasks_runs()
    {
        var folder = Folder("ibl-run");
        RunConfig.Write(folder, Tiny());
        Assert.Contains("\"task\": \"ibl\"", File.ReadAllText(folder.PathOf(RunConfig.FileName)));
        Assert.Equal(Tiny(), RunConfig.Read(folder));
        var e = Assert.Throws<InvalidDataException>(() => RunConfig.Read<HmmTrainingConfig>(folder));
        Assert.Contains("is a run of the ibl task, not of the hmm task", e.Message);
        var (code, error) = CliRunner.Run(TrainCommands.Evaluate(), folder.Path);
        Assert.Equal(2, code);
        Assert.Contains("ibl task", error);
    }

    [Theory]
    [InlineData("--hidden: must be > 0, got 0", "--hidden", "0")]
    [InlineData("'mse' not recognized", "--loss", "mse")]
    [InlineData("--lr: must be finite and > 0, got -1", "--lr", "-1")]
    public void Ibl_train_refuses_bad_input_in_one_line_and_writes_nothing(string expected, string flag, string value)
    {
        var outDir = Path.Combine(Root, "never");
        var (code, error) = CliRunner.Run(IblCommands.Create(), "train", flag, value, "--out", outDir);
        Assert.NotEqual(0, code);
        Assert.Contains(expected, error);
        Assert.DoesNotContain("   at ", error);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void Analyze_writes_every_output_of_a_trained_run()
    {
        var folder = Folder("analyze");
        RunConfig.Write(folder, Tiny(epochs: 3));
        _ = Trainer.Run(Tiny(epochs: 3), folder).ToList();
        var (code, error) = CliRunner.Run(IblCommands.Create(), "analyze", folder.Path, "--sessions", "2", "--trials-per-session", "200", "--recorded-trials", "300");
        Assert.True(code == 0, error);
        foreach (var file in new[] { "analysis.json", "analysis.md", "accuracy-by-contrast.png", "psychometric.png", "chronometric.png", "block-change.png", "pca.png", "radd-error.png", "pools.png" })
            Assert.True(File.Exists(folder.PathOf(file)), $"{file} missing");
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(folder.PathOf("analysis.json")));
        var accuracy = json.RootElement.GetProperty("accuracyTimeoutsWrong").GetDouble();
        Assert.InRange(accuracy, 0, 1);
        var report = json.RootElement.GetProperty("report");
        foreach (var key in new[] { "behaviour", "representation", "radd", "pools" }) Assert.True(report.TryGetProperty(key, out _), key);
        Assert.Equal(accuracy, report.GetProperty("behaviour").GetProperty("network").GetProperty("accuracyTimeoutsWrong").GetDouble());
        Assert.Empty(Directory.EnumerateFiles(folder.Path, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void Analyze_refuses_what_is_not_a_trained_IBL_run_in_one_line()
    {
        var empty = Folder("empty");
        var hmm = Folder("hmm");
        RunConfig.Write(hmm, HmmTrainingConfig.Preset("quick", "linear2"));
        var truncated = Folder("truncated");
        RunConfig.Write(truncated, Tiny(epochs: 1));
        _ = Trainer.Run(Tiny(epochs: 1), truncated).ToList();
        foreach (var name in new[] { Trainer.BestCheckpoint, Trainer.LastCheckpoint })
            File.WriteAllBytes(truncated.PathOf(name), File.ReadAllBytes(truncated.PathOf(name))[..200]);
        foreach (var (path, expected) in new[]
                 {
                     (Path.Combine(Root, "nowhere"), "is not a folder"), (empty.Path, "has no config.json"),
                     (hmm.Path, "is a run of the hmm task, not of the ibl task"), (truncated.Path, "truncated or corrupt"),
                 })
        {
            var (code, error) = CliRunner.Run(IblCommands.Create(), "analyze", path);
            Assert.True(code != 0, path);
            Assert.Contains(expected, error);
            Assert.Single(error.Trim().Split('\n'));
            if (Directory.Exists(path)) Assert.False(File.Exists(Path.Combine(path, "analysis.json")));
        }
    }

    [Fact]
    public void Output_distillation_trains_a_two_unit_student_through_the_same_loop()
    {
        var teacher = Folder("teacher");
        RunConfig.Write(teacher, Tiny(epochs: 2));
        _ = Trainer.Run(Tiny(epochs: 2), teacher).ToList();
        var config = new IblDistillConfig { Teacher = teacher.Path, Sessions = 4, Steps = 200, StepsPerEpoch = 5, Epochs = 2, ValidationSessions = 2, ValidationTrials = 100 };
        var epochs = Trainer.Run(config, Folder("student")).OfType<EpochCompleted>().ToArray();
        Assert.Equal(2, epochs.Length);
        Assert.True(epochs.All(e => e.TrainLoss >= 0), "a KL divergence is never negative");
        Assert.True(epochs[^1].TrainLoss < epochs[0].TrainLoss, $"KL {epochs[0].TrainLoss} → {epochs[^1].TrainLoss}");
        var e = Assert.Throws<InvalidDataException>(() => Trainer.Run(config with { Teacher = Path.Combine(Root, "none") }, Folder("x")).ToList());
        Assert.Contains("no such run folder", e.Message);
    }

    [Fact]
    public void Resuming_another_tasks_run_is_refused_before_anything_is_written()
    {
        var hmm = Folder("hmm-run");
        var hmmConfig = HmmTrainingConfig.Preset("quick", "linear3") with { Hidden = 4, Input = 2, Batch = 64, TrainSequences = 64, ValidationSequences = 64, TestSequences = 0, Epochs = 1 };
        RunConfig.Write(hmm, hmmConfig);
        _ = Trainer.Run(hmmConfig, hmm).ToList();
        var before = File.ReadAllText(hmm.PathOf(RunConfig.FileName));
        var (code, error) = CliRunner.Run(IblCommands.Create(), "train", "--out", hmm.Path, "--resume");
        Assert.NotEqual(0, code);
        Assert.Contains("is a run of the hmm task, not of the ibl task", error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Equal(before, File.ReadAllText(hmm.PathOf(RunConfig.FileName)));
    }

    // Bug caught: the IBL report analysing the epoch-3 network of a 40-epoch run without saying so (validation accuracy 0.873 at
    // epoch 3, drifting to 0.835 by epoch 40), or calling 1 − accuracy a "loss".
    [Fact]
    public void The_analysis_says_which_epoch_it_opened_and_that_training_drifted_past_it()
    {
        var rows = Enumerable.Range(1, 40).Select(e => new HmmRnn.Host.Training.EpochRow(e, 0.5, e == 3 ? 1 - 0.873 : 1 - (0.86 - 0.025 * e / 40.0), e == 3, e, 0)).ToList();
        var text = HmmRnn.Host.Tasks.Ibl.IblAnalysisOutput.WhichCheckpoint(rows, 3);
        Assert.Contains("epoch 3 (validation accuracy 0.873", text);
        Assert.Contains("the last epoch, 40, reached 0.835", text);
        Assert.Contains("drifted", text);
        Assert.DoesNotContain("drifted", HmmRnn.Host.Tasks.Ibl.IblAnalysisOutput.WhichCheckpoint(rows, 40));
    }
}
