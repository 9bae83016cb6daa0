using HmmRnn.Host.Cli;
using HmmRnn.Host.Training;

namespace HmmRnn.Host.Tests;

[Collection("torch")]
public class ConfigAndCliTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "hmmrnn-cli-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
        if (File.Exists(_root)) File.Delete(_root);
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
        var outDir = Path.Combine(_root, "run");
        var error = new StringWriter();
        var saved = Console.Error;
        Console.SetError(error);
        int code;
        try { code = TrainCommands.Train().Parse(["--out", outDir, option, value]).Invoke(); }
        finally { Console.SetError(saved); }
        Assert.Equal(2, code);
        Assert.False(Directory.Exists(outDir), "a run folder was created for a bad config");
        Assert.NotEmpty(error.ToString().Trim());
    }

    [Fact]
    public void Train_refuses_an_unwritable_output_folder()
    {
        File.WriteAllText(_root, "a file, not a folder");
        var error = new StringWriter();
        var saved = Console.Error;
        Console.SetError(error);
        int code;
        try { code = TrainCommands.Train().Parse(["--out", Path.Combine(_root, "run"), "--epochs", "1"]).Invoke(); }
        finally { Console.SetError(saved); }
        Assert.Equal(2, code);
        Assert.Contains("--out", error.ToString());
    }
}
