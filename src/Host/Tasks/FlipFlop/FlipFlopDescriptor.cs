using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using HmmRnn.Core;
using HmmRnn.Host.Output;
using HmmRnn.Host.Training;

namespace HmmRnn.Host.Tasks.FlipFlop;

/// <summary>
/// The 3-bit flip-flop task (Sussillo and Barak 2013) as a plug-in: a tanh RNN holds the sign of each input channel's
/// last pulse; after training, <c>analyze</c> finds its fixed points (eight attractors, saddles between them), PCA and flow.
/// </summary>
public sealed class FlipFlopDescriptor : ITaskDescriptor
{
    /// <summary>The one instance (the registry's line).</summary>
    public static FlipFlopDescriptor Instance { get; } = new();

    private FlipFlopDescriptor() => Stages = [new AnalyzeStage()];

    /// <inheritdoc />
    public string Name => "flipflop";

    /// <inheritdoc />
    public IReadOnlyDictionary<string, Type> ConfigTypes { get; } = new Dictionary<string, Type> { ["flipflop"] = typeof(FlipFlopConfig) };

    /// <inheritdoc />
    public IReadOnlyList<string> Presets => FlipFlopConfig.Presets;

    /// <inheritdoc />
    public IReadOnlyList<string> ModelKeys { get; } = ["hidden"];

    /// <inheritdoc />
    public IReadOnlyList<string> ReservedKeys { get; } = [];

    /// <inheritdoc />
    public IReadOnlyList<string> ExperimentKeys { get; } = [];

    /// <inheritdoc />
    public ITaskConfig Example => FlipFlopConfig.Preset("quick");

    /// <summary>Memory bounds: ≤ 64 channels, ≤ 4096 units, sequences of ≤ 10,000 steps, ≤ 4096 sequences a batch and for validation.</summary>
    public const int MaxChannels = 64, MaxHidden = 4096, MaxLength = 10_000, MaxBatch = 4096;

    /// <inheritdoc />
    public Violation? Limits(ITaskConfig config) => config is not FlipFlopConfig c ? null
        : ConfigRules.AtMost(nameof(c.Channels), c.Channels, MaxChannels) ?? ConfigRules.AtMost(nameof(c.Hidden), c.Hidden, MaxHidden)
          ?? ConfigRules.AtMost(nameof(c.SequenceLength), c.SequenceLength, MaxLength) ?? ConfigRules.AtMost(nameof(c.Batch), c.Batch, MaxBatch)
          ?? ConfigRules.AtMost(nameof(c.ValidationSequences), c.ValidationSequences, MaxBatch);

    /// <inheritdoc />
    public ITaskConfig Preset(string preset, JsonObject experiment) => FlipFlopConfig.Preset(preset);

    /// <inheritdoc />
    public IReadOnlyList<ITaskStage> Stages { get; }

    /// <inheritdoc />
    public IReadOnlyList<MetricColumn> Metrics { get; } =
    [
        new("stableFixedPoints", "stable fixed points"), new("saddles", "saddles"), new("memoryStates", "memory states"), new("outputAccuracy", "output signs right"),
    ];

    /// <inheritdoc />
    public MetricColumn? SweepMetric { get; } = new("stableFixedPoints", "stable fixed points with no input (mean over seeds)");

    /// <inheritdoc />
    public string ExportLayout => "Flip-flop runs (tanh RNN, float64): W_rec [H, H], W_in [H, C] (columns: the bits' pulses), b [H] (= b_ih + b_hh), W_out [C, H] (rows: the bits), b_out [C].";

    /// <inheritdoc />
    public (IReadOnlyList<NpyArray> Arrays, string Checkpoint) Export(RunFolder folder, ITaskConfig config, string checkpoint)
    {
        var (_, t, file, _) = FlipFlopOutput.Load(folder, checkpoint);
        return (NetworkExport.Tanh(t, "h_t = tanh(W_rec h_(t-1) + W_in x_t + b), h_0 = 0; y_t = W_out h_t + b_out: each bit's output holds the sign of its last pulse",
            [.. Enumerable.Range(1, t.Inputs).Select(i => $"pulse, bit {i}")], [.. Enumerable.Range(1, t.Outputs).Select(i => $"bit {i}")]), file);
    }

    /// <summary><c>analyze</c>: fixed points and saddles, PCA, flow (analysis.json/.md, pca.png, flow.png).</summary>
    private sealed class AnalyzeStage : ITaskStage
    {
        public string Name => "analyze";
        public string Title => "Opened up";
        public string Markdown => "analysis.md";
        public IReadOnlyList<string> Outputs { get; } = ["analysis.json", "analysis.md"];
        public IReadOnlyList<string> Figures { get; } = ["pca.png", "flow.png"];
        public bool ByDefault => true;
        public IReadOnlyList<string> Needs { get; } = [];
        public StageOptions Options { get; } = new("analysis", (JsonObject)JsonSerializer.SerializeToNode(FlipFlopAnalysisOptions.Default, RunFolder.Json)!, Seeded: true,
            json => json.Deserialize<FlipFlopAnalysisOptions>(RunFolder.Json)!.Problem());

        public IReadOnlyList<string> InputKey(JsonObject options, long seed) => [options.ToJsonString(), seed.ToString(CultureInfo.InvariantCulture)];

        public StageOutcome Run(StageContext context)
        {
            var r = FlipFlopOutput.Run(context.Folder, context.Options.Deserialize<FlipFlopAnalysisOptions>(RunFolder.Json)!, context.Seed, "best", context.Progress);
            return new StageOutcome(r, new Dictionary<string, double>
            {
                ["stableFixedPoints"] = r.StableFixedPoints, ["saddles"] = r.Saddles, ["memoryStates"] = r.MemoryStates, ["outputAccuracy"] = r.OutputAccuracy,
            }, $"{r.StableFixedPoints} stable fixed points, {r.Saddles} saddles, output signs right {r.OutputAccuracy:F4}");
        }
    }
}
