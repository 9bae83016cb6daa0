using System.Text.Json.Nodes;
using HmmRnn.Host.Cli;
using HmmRnn.Host.Experiments;
using HmmRnn.Host.Tasks.Hmm;
using HmmRnn.Host.Tasks.Ibl;
using HmmRnn.Host.Output;

namespace HmmRnn.Host.Tests;

/// <summary>The repository's files (experiments/, scripts/), found from the test's output folder.</summary>
public static class Repo
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "HmmRnn.sln"))) return dir.FullName;
        throw new InvalidOperationException("HmmRnn.sln not found above " + AppContext.BaseDirectory);
    }

    public static string PathOf(string relative) => Path.Combine(Root, relative);
}

/// <summary>Experiment files: the shipped ones, the schema, overrides, sweeps and custom matrices.</summary>
public class ExperimentFileTests
{
    private static Experiment Parse(string json) => Experiment.Parse(JsonNode.Parse(json)!.AsObject());

    // Bug caught: the tool shipping no experiment files (an installed 'hmmrnn run experiments/hmm-quick.json', as its help
    // suggested, failed outside the repository), a shipped copy that differs from the repository's file, the schema listed
    // as an experiment, a name resolved before an existing file of that name.
    [Fact]
    public void Every_repository_experiment_ships_inside_the_tool_and_runs_by_name()
    {
        var files = Directory.GetFiles(Repo.PathOf("experiments"), "*.json").Select(Path.GetFileNameWithoutExtension).Where(n => n != "schema").Order(StringComparer.Ordinal);
        Assert.Equal(files, ShippedExperiments.Names);
        foreach (var name in ShippedExperiments.Names)
        {
            Assert.Equal(File.ReadAllText(Repo.PathOf($"experiments/{name}.json")), ShippedExperiments.Text(name));
            Assert.Equal(Experiment.Load(Repo.PathOf($"experiments/{name}.json")).Points.Count, ShippedExperiments.Load(name).Points.Count);
        }
        Assert.NotNull(ShippedExperiments.Text("schema"));
        var e = Assert.Throws<ExperimentException>(() => ShippedExperiments.Load("no-such-experiment"));
        Assert.Contains("hmm-quick", e.Message);
        Assert.Throws<ExperimentException>(() => ShippedExperiments.Load("schema"));
        var folder = Directory.CreateTempSubdirectory("hmmrnn-shipped-");
        try
        {
            var local = Path.Combine(folder.FullName, "hmm-quick");
            File.WriteAllText(local, File.ReadAllText(Repo.PathOf("experiments/ibl-quick.json")));
            Assert.Equal("ibl", ShippedExperiments.Load(local).Task); // a file of that name wins over the shipped one
        }
        finally { folder.Delete(true); }
    }

    [Fact]
    public void The_shipped_experiments_load_and_expand_as_described()
    {
        var files = Directory.GetFiles(Repo.PathOf("experiments"), "*.json").Where(f => !f.EndsWith("schema.json", StringComparison.Ordinal)).ToList();
        Assert.Superset(new HashSet<string> { "hmm-quick.json", "hmm-paper.json", "hmm-sweep.json", "ibl-quick.json", "ibl-paper.json" },
            files.Select(Path.GetFileName).ToHashSet()!);
        foreach (var f in files) Experiment.Load(f); // throws on any problem

        var quick = Experiment.Load(Repo.PathOf("experiments/hmm-quick.json"));
        var point = Assert.Single(quick.Points);
        var config = Assert.IsType<HmmTrainingConfig>(point.Config);
        Assert.Equal(HmmTrainingConfig.Preset("quick", "linear3") with { Seed = 0 }, config);

        // The paper's grid: hidden 50/150/200 × input 1/10/100/200 × 3 seeds.
        var sweep = Experiment.Load(Repo.PathOf("experiments/hmm-sweep.json"));
        Assert.Equal(36, sweep.Points.Count);
        Assert.Equal(36, sweep.Points.Select(p => p.Id).Distinct().Count());
        Assert.Equal(new[] { 50, 150, 200 }, sweep.Points.Select(p => ((HmmTrainingConfig)p.Config).Hidden).Distinct());
        Assert.Equal(new[] { 1, 10, 100, 200 }, sweep.Points.Select(p => ((HmmTrainingConfig)p.Config).Input).Distinct());

        Assert.IsType<IblTrainingConfig>(Assert.Single(Experiment.Load(Repo.PathOf("experiments/ibl-paper.json")).Points).Config);
        Assert.Equal(IblTrainingConfig.Preset("paper"), Experiment.Load(Repo.PathOf("experiments/ibl-paper.json")).Points[0].Config);
    }

    /// <summary>Bug caught: a configuration field added (or renamed) without the published schema following, or the reverse.</summary>
    public static TheoryData<string> TaskNames() => [.. HmmRnn.Host.Tasks.TaskRegistry.Names];

    [Theory]
    [MemberData(nameof(TaskNames))]
    public void The_schema_lists_exactly_the_keys_the_loader_accepts(string task)
    {
        var schema = JsonNode.Parse(File.ReadAllText(Repo.PathOf("experiments/schema.json")))!;
        // One if/then per task (not a oneOf, whose failures editors report as "not valid under any of the given schemas").
        var branch = schema["allOf"]!.AsArray().Single(b => b!["if"]!["properties"]!["task"]!["const"]!.GetValue<string>() == task)!["then"]!["properties"]!;
        Assert.Contains(task, schema["properties"]!["task"]!["enum"]!.AsArray().Select(t => t!.GetValue<string>()));
        foreach (var (section, keys) in Experiment.Settings(task))
            Assert.Equal(keys.Order(), branch[section]!["properties"]!.AsObject().Select(p => p.Key).Order());
        var sweepKeys = branch["sweep"]!["properties"]!.AsObject().Select(p => p.Key).Order();
        var own = HmmRnn.Host.Tasks.TaskRegistry.Find(task)!.ExperimentKeys;
        Assert.Equal(own.Concat(Experiment.Settings(task)["model"].Select(k => "model." + k)).Concat(Experiment.Settings(task)["training"].Select(k => "training." + k)).Order(), sweepKeys);
        var include = branch["include"]!["items"]!["properties"]!;
        Assert.Equal(own.Concat(["model", "training", "seeds"]).Order(), include.AsObject().Select(p => p.Key).Order());
        foreach (var section in new[] { "model", "training" })
            Assert.Equal(Experiment.Settings(task)[section].Order(), include[section]!["properties"]!.AsObject().Select(p => p.Key).Order());
    }

    [Fact]
    public void Overrides_and_the_sweep_grid_reach_every_point_in_order()
    {
        var e = Parse("""
            { "name": "g", "task": "hmm", "hmm": "fully3", "model": { "hidden": 7 }, "training": { "epochs": 3 },
              "seeds": [4, 5], "sweep": { "training.learningRate": [0.1, 0.2], "model.input": [2, 3] } }
            """);
        Assert.Equal(8, e.Points.Count);
        var configs = e.Points.Select(p => (HmmTrainingConfig)p.Config).ToList();
        Assert.All(configs, c => Assert.Equal((7, 3, "fully3"), (c.Hidden, c.Epochs, c.Hmm)));
        // First axis slowest, seeds fastest.
        Assert.Equal(new[] { 0.1, 0.1, 0.1, 0.1, 0.2, 0.2, 0.2, 0.2 }, configs.Select(c => c.LearningRate));
        Assert.Equal(new[] { 2, 2, 3, 3, 2, 2, 3, 3 }, configs.Select(c => c.Input));
        Assert.Equal(new long[] { 4, 5, 4, 5, 4, 5, 4, 5 }, configs.Select(c => c.Seed));
        Assert.Equal("learningRate-0.1_input-2_s4", e.Points[0].Id);
        Assert.Equal("3", e.Points[2].Coordinates["model.input"]);
        // The quick preset's levers still apply, sized to the model (fully3: T = 30, a rollout of 60).
        Assert.All(configs, c => Assert.Equal((60, 20, "faithful"), (c.EffectiveRollout, c.EffectivePairLags, c.Selection)));
    }

    /// <summary>
    /// Bugs caught: an "hmm" axis that keeps the first model's preset (linear chains and fully3 differ in T and clip), include
    /// entries that lose the file's overrides or their own seeds, two points with one folder name.
    /// </summary>
    [Fact]
    public void An_hmm_axis_takes_each_models_preset_and_include_adds_points_with_their_own_seeds()
    {
        var e = Parse("""
            { "name": "atlas", "task": "hmm", "training": { "epochs": 3 }, "seeds": [0, 1],
              "sweep": { "hmm": ["linear2", "fully3"] },
              "include": [ { "hmm": "linear3", "model": { "hidden": 9, "input": 4 }, "seeds": [7] } ] }
            """);
        Assert.Equal(["hmm-linear2_s0", "hmm-linear2_s1", "hmm-fully3_s0", "hmm-fully3_s1", "hmm-linear3_hidden-9_input-4_s7"], e.Points.Select(p => p.Id));
        var configs = e.Points.Select(p => (HmmTrainingConfig)p.Config).ToList();
        Assert.Equal(["linear2", "linear2", "fully3", "fully3", "linear3"], configs.Select(c => c.Hmm));
        Assert.All(configs, c => Assert.Equal(3, c.Epochs));
        Assert.Equal(new long[] { 0, 1, 0, 1, 7 }, configs.Select(c => c.Seed));
        // Each model's own sequence length (the catalogue: linear2 T = 100, fully3 and linear3 T = 30), not the first one's.
        Assert.Equal([100, 100, 30, 30, 30], configs.Select(c => c.Entry.SequenceLength));
        Assert.Equal([0.9, 0.9, 0.3, 0.3, 0.9], configs.Select(c => c.EffectiveGradClip));
        Assert.Equal((9, 4), (configs[4].Hidden, configs[4].Input));
        Assert.Equal("linear3", e.Points[4].Coordinates["hmm"]);
        Assert.Equal("9", e.Points[4].Coordinates["model.hidden"]);

        var repeat = Assert.Throws<ExperimentException>(() => Parse("""
            { "name": "r", "task": "hmm", "sweep": { "hmm": ["linear2"] }, "include": [ { "hmm": "linear2", "seeds": [0] } ] }
            """));
        Assert.Equal("include[0]", repeat.JsonPath);
        Assert.Contains("hmm-linear2_s0", repeat.Message, StringComparison.Ordinal);
        var both = Assert.Throws<ExperimentException>(() => Parse("""{ "name": "b", "task": "hmm", "hmm": "linear2", "sweep": { "hmm": ["linear3"] } }"""));
        Assert.Equal("sweep.hmm", both.JsonPath);
        var unknown = Assert.Throws<ExperimentException>(() => Parse("""{ "name": "u", "task": "hmm", "sweep": { "hmm": ["linear9"] } }"""));
        Assert.Equal("sweep.hmm", unknown.JsonPath);
        var badKey = Assert.Throws<ExperimentException>(() => Parse("""{ "name": "k", "task": "hmm", "hmm": "linear2", "include": [ { "model": { "hiden": 3 } } ] }"""));
        Assert.Equal("include[0].model.hiden", badKey.JsonPath);
        var badSeed = Assert.Throws<ExperimentException>(() => Parse("""{ "name": "s", "task": "hmm", "hmm": "linear2", "include": [ { "seeds": [-1] } ] }"""));
        Assert.Equal("include[0].seeds[0]", badSeed.JsonPath);
    }

    [Fact]
    public void Custom_matrices_are_the_HMM_that_is_trained()
    {
        var e = Parse("""
            { "name": "c", "task": "hmm", "hmm": { "name": "coin", "initial": [0.5, 0.5], "transition": [[0.9, 0.1], [0.2, 0.8]],
              "emission": [[1, 0], [0, 1]], "sequenceLength": 12, "family": "cyclic" } }
            """);
        var c = (HmmTrainingConfig)Assert.Single(e.Points).Config;
        Assert.Equal("coin", c.Hmm);
        Assert.Equal(12, c.Entry.SequenceLength);
        Assert.Equal(0.2, c.Entry.Hmm.Transition[1, 0]);
        // The quick preset sized to 12 steps: lags 1 … 11, a rollout of 24, ten start positions.
        Assert.Equal((11, 24, 10), (c.EffectivePairLags, c.EffectiveRollout, c.StartPairs));
        Assert.Equal(0.3, c.EffectiveGradClip);
        // The configuration (with its matrices) survives config.json: what evaluate and analyze read back.
        var json = System.Text.Json.JsonSerializer.Serialize<Training.ITaskConfig>(c, Output.RunFolder.Json);
        var back = (HmmTrainingConfig)System.Text.Json.JsonSerializer.Deserialize<Training.ITaskConfig>(json, Output.RunFolder.Json)!;
        Assert.Equal(c, back);
        Assert.Equal(c.Hash(), back.Hash());
    }

    [Fact]
    public void A_pair_weight_of_0_is_left_out_of_config_json_and_the_hash_so_runs_from_before_it_still_resume()
    {
        // The paper-preset run begun before PairWeight existed wrote a config.json without it; the same training must
        // hash the same. Red if the field is serialised at 0 (the hash then changes) or dropped when set (10 = 0).
        var paper = HmmTrainingConfig.Preset("paper", "linear3");
        var json = System.Text.Json.JsonSerializer.Serialize<Training.ITaskConfig>(paper, Output.RunFolder.Json);
        Assert.DoesNotContain("pairWeight", json);
        var weighted = paper with { PairWeight = 10 };
        Assert.Contains("\"pairWeight\": 10", System.Text.Json.JsonSerializer.Serialize<Training.ITaskConfig>(weighted, Output.RunFolder.Json));
        Assert.NotEqual(paper.Hash(), weighted.Hash());
        var back = (HmmTrainingConfig)System.Text.Json.JsonSerializer.Deserialize<Training.ITaskConfig>(json, Output.RunFolder.Json)!;
        Assert.Equal(0, back.PairWeight);
        Assert.Equal(paper.Hash(), back.Hash());
    }
}

/// <summary>
/// Issue 11, reliability: every bad input — experiment files, matrices, checkpoints, command-line arguments — gives one
/// clear line on standard error (no stack trace), a non-zero exit code, and no output (no folder created, no file changed).
/// </summary>
[Collection("torch")]
public sealed class BadInputTests : TempFolderTest
{
    private const string Tiny = """ "model": { "hidden": 6, "input": 2 }, "training": { "epochs": 1, "batch": 16, "trainSequences": 32, "validationSequences": 16, "testSequences": 200 } """;

    /// <summary>(experiment JSON, or null for a command-line case) → what the one line must contain.</summary>
    public static readonly Dictionary<string, (string Json, string Expected)> Files = new()
    {
        ["not JSON"] = ("""{ "name": """, "not valid JSON"),
        ["not an object"] = ("[1, 2]", "(top level): must be an object"),
        ["no name"] = ("""{ "task": "hmm", "hmm": "linear3" }""", "name: required"),
        ["bad name"] = ("""{ "name": "a b", "task": "hmm", "hmm": "linear3" }""", "name: must be letters"),
        ["no task"] = ("""{ "name": "x", "hmm": "linear3" }""", "task: required"),
        ["unknown task"] = ("""{ "name": "x", "task": "maze" }""", $"task: must be one of {string.Join(", ", HmmRnn.Host.Tasks.TaskRegistry.Names)}, got maze"),
        ["unknown top-level key"] = ("""{ "name": "x", "task": "hmm", "hmm": "linear3", "trainning": {} }""", "trainning: unknown key"),
        ["unknown model key"] = ("""{ "name": "x", "task": "hmm", "hmm": "linear3", "model": { "hiden": 5 } }""", "model.hiden: unknown key"),
        ["negative hidden"] = ("""{ "name": "x", "task": "hmm", "hmm": "linear3", "model": { "hidden": -3 } }""", "model.hidden: must be > 0, got -3"),
        ["fractional hidden"] = ("""{ "name": "x", "task": "hmm", "hmm": "linear3", "model": { "hidden": 2.5 } }""", "model.hidden: must be an integer, got 2.5"),
        ["string learning rate"] = ("""{ "name": "x", "task": "hmm", "hmm": "linear3", "training": { "learningRate": "fast" } }""", "training.learningRate: must be a number, got fast"),
        ["batch above the data"] = ("""{ "name": "x", "task": "hmm", "hmm": "linear3", "training": { "batch": 20000 } }""", "training.batch: must not exceed TrainSequences"),
        ["unknown selection"] = ("""{ "name": "x", "task": "hmm", "hmm": "linear3", "training": { "selection": "best" } }""", "training.selection: must be one of loss, transition, faithful, got best"),
        ["unknown preset"] = ("""{ "name": "x", "task": "hmm", "hmm": "linear3", "preset": "slow" }""", "preset: must be one of quick, paper, got slow"),
        ["unknown device"] = ("""{ "name": "x", "task": "hmm", "hmm": "linear3", "device": "tpu" }""", "device: must be cpu or cuda, got tpu"),
        ["empty seeds"] = ("""{ "name": "x", "task": "hmm", "hmm": "linear3", "seeds": [] }""", "seeds: must be a non-empty array"),
        ["repeated seed"] = ("""{ "name": "x", "task": "hmm", "hmm": "linear3", "seeds": [1, 1] }""", "seeds[1]: repeats an earlier seed"),
        ["negative seed"] = ("""{ "name": "x", "task": "hmm", "hmm": "linear3", "seeds": [-1] }""", "seeds[0]: must be ≥ 0"),
        ["text seed"] = ("""{ "name": "x", "task": "hmm", "hmm": "linear3", "seeds": ["a"] }""", "seeds[0]: must be an integer"),
        ["unknown HMM"] = ("""{ "name": "x", "task": "hmm", "hmm": "linear9" }""", "hmm: not a catalogue model"),
        ["no HMM"] = ("""{ "name": "x", "task": "hmm" }""", "hmm: required for task hmm"),
        ["unknown analysis"] = ("""{ "name": "x", "task": "hmm", "hmm": "linear3", "analyses": ["dance"] }""", "analyses[0]: must be one of evaluate, reverse-engineer"),
        ["unknown sweep setting"] = ("""{ "name": "x", "task": "hmm", "hmm": "linear3", "sweep": { "model.width": [1] } }""", "sweep.model.width: not a sweepable setting"),
        ["empty sweep axis"] = ("""{ "name": "x", "task": "hmm", "hmm": "linear3", "sweep": { "model.hidden": [] } }""", "sweep.model.hidden: must be a non-empty array"),
        ["repeated sweep value"] = ("""{ "name": "x", "task": "hmm", "hmm": "linear3", "sweep": { "model.hidden": [50, 50] } }""", "sweep.model.hidden: repeats a value"),
        ["bad value inside the sweep"] = ("""{ "name": "x", "task": "hmm", "hmm": "linear3", "sweep": { "model.hidden": [50, -1] } }""", "model.hidden: must be > 0, got -1"),
        ["HMM on the IBL task"] = ("""{ "name": "x", "task": "ibl", "hmm": "linear3" }""", "hmm: only for task hmm"),
        ["unknown IBL loss"] = ("""{ "name": "x", "task": "ibl", "training": { "loss": "mse" } }""", "training.loss: must be one of paper, reference"),
        ["too few evaluation sequences"] = ("""{ "name": "x", "task": "hmm", "hmm": "linear3", "evaluation": { "sequences": 10 } }""", "evaluation.sequences: must be an integer ≥ 100, got 10"),
        ["negative analysis sigma"] = ("""{ "name": "x", "task": "hmm", "hmm": "linear3", "analysis": { "sigma": -1 } }""", "analysis.sigma: must be finite and ≥ 0, got -1"),
        ["unknown analysis option"] = ("""{ "name": "x", "task": "hmm", "hmm": "linear3", "analysis": { "colour": 1 } }""", "analysis.colour: unknown key"),
        // Matrices.
        ["transition row not summing to 1"] = ("""{ "name": "x", "task": "hmm", "hmm": { "initial": [0.5, 0.5], "transition": [[0.8, 0.1], [0.5, 0.5]], "emission": [[1, 0], [0, 1]], "sequenceLength": 10 } }""", "transition"),
        ["ragged emission"] = ("""{ "name": "x", "task": "hmm", "hmm": { "initial": [0.5, 0.5], "transition": [[0.9, 0.1], [0.5, 0.5]], "emission": [[1, 0], [1]], "sequenceLength": 10 } }""", "hmm.emission[1]: must have 2 entries, as row 0, got 1 entries"),
        ["negative initial probability"] = ("""{ "name": "x", "task": "hmm", "hmm": { "initial": [1.5, -0.5], "transition": [[0.9, 0.1], [0.5, 0.5]], "emission": [[1, 0], [0, 1]], "sequenceLength": 10 } }""", "initial"),
        ["sequences of one step"] = ("""{ "name": "x", "task": "hmm", "hmm": { "initial": [0.5, 0.5], "transition": [[0.9, 0.1], [0.5, 0.5]], "emission": [[1, 0], [0, 1]], "sequenceLength": 1 } }""", "sequenceLength: must be ≥ 2, got 1"),
        ["missing emission"] = ("""{ "name": "x", "task": "hmm", "hmm": { "initial": [0.5, 0.5], "transition": [[0.9, 0.1], [0.5, 0.5]], "sequenceLength": 10 } }""", "hmm.emission: required"),
        ["matrices of different sizes"] = ("""{ "name": "x", "task": "hmm", "hmm": { "initial": [0.5, 0.5], "transition": [[0.9, 0.1], [0.5, 0.5]], "emission": [[1, 0], [0, 1], [0.5, 0.5]], "sequenceLength": 10 } }""", "emission"),
        ["text in a matrix"] = ("""{ "name": "x", "task": "hmm", "hmm": { "initial": [0.5, "half"], "transition": [[0.9, 0.1], [0.5, 0.5]], "emission": [[1, 0], [0, 1]], "sequenceLength": 10 } }""", "hmm.initial"),
    };

    public static TheoryData<string> FileCases() => [.. Files.Keys];

    [Theory]
    [MemberData(nameof(FileCases))]
    public void A_bad_experiment_file_is_one_line_and_creates_nothing(string name)
    {
        var (json, expected) = Files[name];
        Directory.CreateDirectory(Root);
        var file = Path.Combine(Root, "experiment.json");
        File.WriteAllText(file, json);
        var output = Path.Combine(Root, "out");
        var (code, error) = CliRunner.Run(Commands.Root(), "run", file, "--out", output);
        AssertOneLine(code, error, expected);
        Assert.Contains(file, error); // the line names the file
        Assert.False(Directory.Exists(output), "an output folder was created for a bad experiment");
    }

    /// <summary>A trained tiny run, then damaged or misused: every command that reads it refuses in one line and changes nothing.</summary>
    public static TheoryData<string> RunCases() =>
    [
        "truncated checkpoint", "checkpoint of another format version", "checkpoint of other shapes", "no config.json", "malformed config.json",
        "config.json of an unknown task", "epoch checkpoint that was not kept", "IBL analysis of an HMM run", "report of a folder that is no run",
        "run over a truncated checkpoint", "missing experiment file", "shard beyond the count", "shard that is not i/n",
        "collect without an experiment", "Slurm script with no tasks", "evaluation with too few sequences", "report of a missing folder",
    ];

    [Theory]
    [MemberData(nameof(RunCases))]
    public void A_damaged_run_or_bad_argument_is_one_line_and_changes_nothing(string name)
    {
        Directory.CreateDirectory(Root);
        var experiment = Path.Combine(Root, "tiny.json");
        File.WriteAllText(experiment, $$"""{ "name": "tiny", "task": "hmm", "hmm": "linear3", {{Tiny}}, "analyses": [] }""");
        var output = Path.Combine(Root, "out");
        Assert.Equal(0, CliRunner.Run(Commands.Root(), "run", experiment, "--out", output).Code);
        var run = Path.Combine(output, "points", "s0");
        var checkpoint = Path.Combine(run, "checkpoints", "best.ckpt");
        var config = Path.Combine(run, "config.json");
        string[] args;
        string expected;
        switch (name)
        {
            case "truncated checkpoint":
                File.WriteAllBytes(checkpoint, File.ReadAllBytes(checkpoint)[..100]);
                (args, expected) = (["evaluate", run], "truncated");
                break;
            case "checkpoint of another format version":
                var bytes = File.ReadAllBytes(checkpoint);
                System.Text.Encoding.UTF8.GetBytes("HMMRNN-CHECKPOINT 9").CopyTo(bytes, 1);
                File.WriteAllBytes(checkpoint, bytes);
                (args, expected) = (["analyze", run], "version 9");
                break;
            case "checkpoint of other shapes":
                // config.json edited to other shapes: refused by the checkpoint's configuration hash (issue 20) before the weights are tried.
                File.WriteAllText(config, File.ReadAllText(config).Replace("\"hidden\": 6", "\"hidden\": 9", StringComparison.Ordinal));
                (args, expected) = (["evaluate", run], "was written by another configuration than its config.json");
                break;
            case "no config.json":
                File.Delete(config);
                (args, expected) = (["evaluate", run], "has no config.json");
                break;
            case "malformed config.json":
                File.WriteAllText(config, "{ \"task\": \"hmm\", \"hidden\": ");
                (args, expected) = (["analyze", run], "config.json");
                break;
            case "config.json of an unknown task":
                File.WriteAllText(config, "{ \"task\": \"chess\" }");
                (args, expected) = (["evaluate", run], "unknown task 'chess'");
                break;
            case "epoch checkpoint that was not kept":
                (args, expected) = (["analyze", run, "--checkpoint", "7"], "no such checkpoint");
                break;
            case "IBL analysis of an HMM run":
                (args, expected) = (["ibl", "analyze", run], "not of the ibl task");
                break;
            case "report of a folder that is no run":
                (args, expected) = (["report", Path.Combine(run, "checkpoints")], "neither an experiment's output");
                break;
            case "run over a truncated checkpoint":
                var last = Path.Combine(run, "checkpoints", "last.ckpt");
                File.WriteAllBytes(last, File.ReadAllBytes(last)[..100]);
                File.Delete(Path.Combine(run, Pipeline.StagesFile)); // the training stage must be redone, and meets the damage
                (args, expected) = (["run", experiment, "--out", output], "delete it to train afresh");
                break;
            case "missing experiment file":
                (args, expected) = (["run", Path.Combine(Root, "nope.json")], "no such experiment file");
                break;
            case "shard beyond the count":
                (args, expected) = (["sweep", experiment, "--out", output, "--shard", "3/2"], "--shard: must be i/n with 0 ≤ i < n, got '3/2'");
                break;
            case "shard that is not i/n":
                (args, expected) = (["sweep", experiment, "--out", output, "--shard", "half"], "--shard: must be i/n");
                break;
            case "collect without an experiment":
                (args, expected) = (["sweep", "collect", run], "no experiment.json");
                break;
            case "Slurm script with no tasks":
                (args, expected) = (["sweep", "slurm", experiment, "--out", output, "--tasks", "0"], "--tasks: must be between 1");
                break;
            case "evaluation with too few sequences":
                (args, expected) = (["evaluate", run, "--sequences", "5"], "--sequences: must be an integer ≥ 100, got 5");
                break;
            case "report of a missing folder":
                (args, expected) = (["report", Path.Combine(Root, "nowhere")], "is not a folder");
                break;
            default: throw new ArgumentException(name);
        }
        var before = Snapshot(Root);
        var (code, error) = CliRunner.Run(Commands.Root(), args);
        AssertOneLine(code, error, expected);
        Assert.Equal(before, Snapshot(Root)); // no file written, changed or removed
    }

    // Issue 20: the experiment pipeline's stages read a point's checkpoint as evaluate does, through config.json and the
    // checkpoint's configuration hash. Red if a rerun's evaluation measures the network against an edited config.json's HMM.
    [Fact]
    public void An_experiment_rerun_refuses_a_point_whose_config_json_was_edited_to_another_HMM()
    {
        Directory.CreateDirectory(Root);
        var experiment = Path.Combine(Root, "tiny.json");
        File.WriteAllText(experiment, $$"""{ "name": "tiny", "task": "hmm", "hmm": "linear3", {{Tiny}}, "evaluation": { "sequences": 200 }, "analyses": ["evaluate"] }""");
        var output = Path.Combine(Root, "out");
        var first = CliRunner.Run(Commands.Root(), "run", experiment, "--out", output);
        Assert.True(first.Code == 0, first.Error);
        var run = Path.Combine(output, "points", "s0");
        var config = Path.Combine(run, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"linear3\"", "\"fully3\"", StringComparison.Ordinal));
        var stagesFile = Path.Combine(run, Pipeline.StagesFile);
        var recorded = JsonNode.Parse(File.ReadAllText(stagesFile))!.AsObject();
        Assert.True(recorded.Remove("evaluate"), "no evaluate stage recorded"); // the evaluation must be redone, and meets the edit
        File.WriteAllText(stagesFile, recorded.ToJsonString());
        var before = Snapshot(Root);
        var (code, error) = CliRunner.Run(Commands.Root(), "run", experiment, "--out", output);
        // The run's progress lines come first; the refusal is its last line.
        Assert.Equal(ExitCode.UsageError, code);
        AssertOneLine(code, error.Trim().Split('\n')[^1], "best.ckpt was written by another configuration than its config.json");
        Assert.DoesNotContain("   at ", error);
        Assert.Equal(before, Snapshot(Root));
    }

    private static void AssertOneLine(int code, string error, string expected)
    {
        Assert.NotEqual(0, code);
        var text = error.Trim();
        Assert.DoesNotContain("\n", text);
        Assert.DoesNotContain("   at ", text);
        Assert.DoesNotContain("Exception", text);
        Assert.Contains(expected, text);
    }

    private static SortedDictionary<string, (long, DateTime)> Snapshot(string root) =>
        new(Directory.GetFiles(root, "*", SearchOption.AllDirectories).ToDictionary(f => f, f => (new FileInfo(f).Length, File.GetLastWriteTimeUtc(f))), StringComparer.Ordinal);
}
