using System.CommandLine;
using HmmRnn.Host.Cli;
using HmmRnn.Host.Tasks.Hmm;
using HmmRnn.Host.Training;

namespace HmmRnn.Host.Tests;

[Collection("torch")]
public class ConfigAndCliTests : TempFolderTest
{
    private static (int Code, string Error) Train(params string[] args) => CliRunner.Run(TrainCommands.Train(), args);

    [Theory]
    [InlineData("Hmm", "Hmm = linear9: not a catalogue model; known: ")]
    [InlineData("Hidden", "Hidden = 0: must be > 0")]
    [InlineData("Batch", "Batch = 20000: must not exceed TrainSequences (10000)")]
    [InlineData("LearningRate", "LearningRate = NaN: must be finite and > 0")]
    public void Bad_configs_name_the_field_and_value(string field, string message)
    {
        var c = HmmTrainingConfig.Preset("quick", "linear2");
        c = field switch
        {
            "Hmm" => c with { Hmm = "linear9" },
            "Hidden" => c with { Hidden = 0 },
            "Batch" => c with { Batch = 20_000 },
            _ => c with { LearningRate = double.NaN },
        };
        // The refusal carries its field as data (issue 18: one validation grammar), and says it in its message.
        var e = Assert.Throws<ValidationException>(() => c.Validate());
        Assert.Contains(message, e.Message);
        Assert.StartsWith(field, e.Message);
        Assert.Equal(field, e.Violation.Field);
    }

    /// <summary>
    /// Issue 18: a refused field is shown under the option that sets it, from the violation's data (field, value, rule).
    /// Red if the CLI prints the record's field ("Epochs = -3") or parses the message.
    /// </summary>
    [Theory]
    [InlineData("--epochs", "-3", "--epochs: must be ≥ 1, got -3")]
    [InlineData("--lr", "-1", "--lr: must be finite and > 0, got -1")]
    [InlineData("--pair-lags", "500", "--pair-lags: must be in [1, 99] (below the sequence length), got 500")]
    public void Train_names_the_option_of_a_refused_field(string option, string value, string expected)
    {
        var (code, error) = Train(option, value, "--out", Path.Combine(Root, "never"));
        Assert.Equal(2, code);
        Assert.Equal(expected, error.Trim());
        Assert.False(Directory.Exists(Path.Combine(Root, "never")));
    }

    [Theory]
    [InlineData("linear2", 100)]
    [InlineData("linear3", 30)]
    [InlineData("linear5", 40)]
    [InlineData("cyclic4", 40)]
    public void Quick_preset_trains_for_faithful_emulation_and_the_paper_preset_is_the_papers(string hmm, int length)
    {
        // Issue 24's one preset: the paper's init, pair terms at lags 1 … 20, a rollout of 2T, the activity penalty, faithful
        // selection — for every model; the paper preset none of them. Bug caught: a lever left on in the paper's recipe.
        var quick = HmmTrainingConfig.Preset("quick", hmm);
        Assert.Equal((0.0, 20, 2 * length, "faithful"), (quick.RecurrentIdentity, quick.EffectivePairLags, quick.EffectiveRollout, quick.Selection));
        Assert.True(quick.ActivityWeight > 0 && quick.PairWeight > 0 && quick.TransitionWeight > 0);
        Assert.Equal(100, quick.Input); // the paper's d, linear2's too since its training rolls back on overflow
        var paper = HmmTrainingConfig.Preset("paper", hmm);
        Assert.Equal((0.0, 1, length, "loss", 0.0, 0.0), (paper.RecurrentIdentity, paper.EffectivePairLags, paper.EffectiveRollout, paper.Selection,
            paper.ActivityWeight, paper.PairWeight));
        Assert.Null(paper.TransitionWeight);
        // Custom matrices of 8 steps: the lags stop at 7, below the sequence length.
        var custom = new CustomHmm([0.5, 0.5], [[0.9, 0.1], [0.1, 0.9]], [[1.0, 0], [0, 1.0]], 8);
        var c = HmmTrainingConfig.Preset("quick", "mine", custom).Validate();
        Assert.Equal((7, 16), (c.EffectivePairLags, c.EffectiveRollout));
    }

    [Theory]
    [InlineData("--hmm", "linear9")]
    [InlineData("--hidden", "0")]
    [InlineData("--batch", "20000")]
    [InlineData("--lr", "NaN")]
    public void Train_fails_fast_and_writes_nothing_on_a_bad_config(string option, string value)
    {
        var outDir = Path.Combine(Root, "run");
        var (code, error) = Train("--out", outDir, option, value);
        Assert.Equal(2, code);
        Assert.False(Directory.Exists(outDir), "a run folder was created for a bad config");
        Assert.NotEmpty(error.Trim());
    }

    [Fact]
    public void Train_refuses_an_unwritable_output_folder()
    {
        File.WriteAllText(Root, "a file, not a folder");
        var (code, error) = Train("--out", Path.Combine(Root, "run"), "--epochs", "1");
        Assert.Equal(2, code);
        Assert.Contains("--out", error);
    }
}

public class OtherCommandTests : TempFolderTest
{
    private static (int Code, string Error) Run(Command command, params string[] args) => CliRunner.Run(command, args);

    [Fact]
    public void Ibl_bayes_refuses_zero_sessions_and_writes_nothing()
    {
        var outDir = Path.Combine(Root, "ibl");
        var (code, error) = Run(IblCommands.Create(), "bayes", "--sessions", "0", "--out", outDir);
        Assert.Equal(2, code);
        Assert.Contains("--sessions: must be ≥ 1, got 0", error);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void Ibl_bayes_names_an_unknown_agent_modifier_and_writes_nothing()
    {
        var outDir = Path.Combine(Root, "ibl-bad");
        var (code, error) = Run(IblCommands.Create(), "bayes", "--agent", "markov+psychic", "--out", outDir);
        Assert.NotEqual(0, code);
        Assert.Contains("not a modifier; known: per-step-contrast, block-prior, timeout-guess ('psychic' in 'markov+psychic')", error);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void Ibl_bayes_writes_its_files_whole()
    {
        var outDir = Path.Combine(Root, "ibl-ok");
        var (code, _) = Run(IblCommands.Create(), "bayes", "--agent", "semi-markov", "--sessions", "2", "--trials-per-session", "200", "--out", outDir);
        Assert.Equal(0, code);
        foreach (var f in new[] { "config.json", "summary.json", "summary.md", "trials-semi-markov.csv", "psychometric.png", "chronometric.png", "block-change.png" })
            Assert.True(File.Exists(Path.Combine(outDir, f)), f);
        Assert.Equal(401, File.ReadAllLines(Path.Combine(outDir, "trials-semi-markov.csv")).Length); // header + 2 × 200 trials
        Assert.Empty(Directory.EnumerateFiles(outDir, "*.tmp"));
        var png = File.ReadAllBytes(Path.Combine(outDir, "psychometric.png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
    }

    [Fact]
    public void Evaluate_names_a_folder_that_is_not_a_run()
    {
        Directory.CreateDirectory(Root);
        var (code, error) = Run(TrainCommands.Evaluate(), Root);
        Assert.Equal(2, code);
        Assert.Contains("has no config.json", error);
    }

    [Fact]
    public void Subcommand_usage_lines_name_each_argument_once()
    {
        // Bug caught: the parent's <experiment> printed before the subcommand's own ("hmmrnn sweep <experiment> slurm <experiment>").
        var output = new StringWriter();
        HmmRnn.Host.Cli.Commands.Invoke(["sweep", "slurm", "--help"], new System.CommandLine.InvocationConfiguration { Output = output });
        Assert.Contains(" sweep slurm <experiment> [options]", output.ToString(), StringComparison.Ordinal); // the root's name is the test host's here
        Assert.DoesNotContain("sweep <experiment> slurm", output.ToString(), StringComparison.Ordinal);
    }
}
