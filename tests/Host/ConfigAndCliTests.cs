using HmmRnn.Host.Cli;
using HmmRnn.Host.Training;

namespace HmmRnn.Host.Tests;

[Collection("torch")]
public class ConfigAndCliTests : TempFolderTest
{
    /// <summary>Runs the train command in-process; returns its exit code and what it wrote to standard error.</summary>
    private static (int Code, string Error) Train(params string[] args)
    {
        var error = new StringWriter();
        var saved = Console.Error;
        Console.SetError(error);
        try { return (TrainCommands.Train().Parse(args).Invoke(), error.ToString()); }
        finally { Console.SetError(saved); }
    }

    [Theory]
    [InlineData("Hmm", "unknown HMM 'linear9'")]
    [InlineData("Hidden", "Hidden = 0: must be > 0")]
    [InlineData("Batch", "Batch = 20000: must not exceed TrainSequences (10000)")]
    [InlineData("LearningRate", "LearningRate = NaN: must be finite and > 0")]
    public void Bad_configs_name_the_field_and_value(string field, string message)
    {
        var c = TrainingConfig.Preset("quick", "linear2");
        c = field switch
        {
            "Hmm" => c with { Hmm = "linear9" },
            "Hidden" => c with { Hidden = 0 },
            "Batch" => c with { Batch = 20_000 },
            _ => c with { LearningRate = double.NaN },
        };
        var e = Assert.Throws<ArgumentException>(() => c.Validate());
        Assert.Contains(message, e.Message);
        Assert.StartsWith(field, e.Message);
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
