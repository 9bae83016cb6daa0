using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using HmmRnn.Analysis.Ibl;
using HmmRnn.Core;
using HmmRnn.Host.Output;
using HmmRnn.Host.Training;

namespace HmmRnn.Host.Tasks.Ibl;

/// <summary>
/// The IBL task (Schaeffer et al. 2020) as a plug-in: a tanh RNN trained in closed loop, and its distilled students
/// (<c>ibl distill</c>, configuration "ibl-distill"); after training, <c>analyze</c> (SPEC B4).
/// </summary>
public sealed class IblDescriptor : ITaskDescriptor
{
    /// <summary>The one instance (the registry's line).</summary>
    public static IblDescriptor Instance { get; } = new();

    private IblDescriptor() => Stages = [new AnalyzeStage()];

    /// <inheritdoc />
    public string Name => "ibl";

    /// <inheritdoc />
    public IReadOnlyDictionary<string, Type> ConfigTypes { get; } = new Dictionary<string, Type>
    {
        ["ibl"] = typeof(IblTrainingConfig),
        ["ibl-distill"] = typeof(IblDistillConfig),
    };

    /// <inheritdoc />
    public IReadOnlyList<string> Presets => IblTrainingConfig.Presets;

    /// <inheritdoc />
    public IReadOnlyList<string> ModelKeys { get; } = ["hidden"];

    /// <inheritdoc />
    public IReadOnlyList<string> ReservedKeys { get; } = [];

    /// <inheritdoc />
    public IReadOnlyList<string> ExperimentKeys { get; } = [];

    /// <inheritdoc />
    public ITaskConfig Example => IblTrainingConfig.Preset("quick");

    /// <summary>Memory bounds: ≤ 4096 units, ≤ 4096 sessions a step (a distilled student's teacher records ≤ 4096 sessions of ≤ 100,000 steps), ≤ 10,000 validation sessions of ≤ 100,000 trials.</summary>
    public const int MaxHidden = 4096, MaxSessions = 4096, MaxSteps = 100_000, MaxValidationSessions = 10_000, MaxValidationTrials = 100_000;

    /// <inheritdoc />
    public Violation? Limits(ITaskConfig config) => config switch
    {
        IblTrainingConfig c => ConfigRules.AtMost(nameof(c.Hidden), c.Hidden, MaxHidden) ?? ConfigRules.AtMost(nameof(c.Sessions), c.Sessions, MaxSessions)
            ?? ConfigRules.AtMost(nameof(c.ValidationSessions), c.ValidationSessions, MaxValidationSessions)
            ?? ConfigRules.AtMost(nameof(c.ValidationTrials), c.ValidationTrials, MaxValidationTrials),
        IblDistillConfig d => ConfigRules.AtMost(nameof(d.Hidden), d.Hidden, MaxHidden) ?? ConfigRules.AtMost(nameof(d.Sessions), d.Sessions, MaxSessions)
            ?? ConfigRules.AtMost(nameof(d.Steps), d.Steps, MaxSteps) ?? ConfigRules.AtMost(nameof(d.ValidationSessions), d.ValidationSessions, MaxValidationSessions)
            ?? ConfigRules.AtMost(nameof(d.ValidationTrials), d.ValidationTrials, MaxValidationTrials),
        _ => null,
    };

    /// <inheritdoc />
    public ITaskConfig Preset(string preset, JsonObject experiment) => IblTrainingConfig.Preset(preset);

    /// <inheritdoc />
    public IReadOnlyList<ITaskStage> Stages { get; }

    /// <inheritdoc />
    public IReadOnlyList<MetricColumn> Metrics { get; } = [new("accuracy", "accuracy (time-outs wrong)")];

    /// <inheritdoc />
    public MetricColumn ValidationLoss { get; } = new("validationErrorRate", "validation error rate (1 − accuracy)");

    /// <inheritdoc />
    public MetricColumn? SweepMetric { get; } = new("accuracy", "accuracy (mean over seeds)");

    /// <inheritdoc />
    public string ExportLayout => "IBL runs (tanh RNN, float64): W_rec [H, H], W_in [H, 3] (columns: left observation, right observation, feedback), b [H] (= b_ih + b_hh), W_out [2, H] (rows: left, right), b_out [2].";

    /// <inheritdoc />
    public (IReadOnlyList<NpyArray> Arrays, string Checkpoint) Export(RunFolder folder, ITaskConfig config, string checkpoint)
    {
        var (_, t, file, _) = IblAnalysisOutput.Load(folder, checkpoint);
        return (NetworkExport.Tanh(t, "h_t = tanh(W_rec h_(t-1) + W_in x_t + b), h_0 = 0; p_t = softmax(W_out h_t + b_out) over (left, right): the action is right when p_right exceeds the task's threshold (config_json: actionThreshold; paper 0.9), left when p_left does, else wait (never on a blank step)",
            ["left observation", "right observation", "feedback"], ["left", "right"]), file);
    }

    /// <summary><c>analyze</c>: behaviour, readouts, flow fields and fixed points, RADD, unit pools (analysis.json/.md and PNGs).</summary>
    private sealed class AnalyzeStage : ITaskStage
    {
        public string Name => "analyze";
        public string Title => "Opened up";
        public string Markdown => "analysis.md";
        public IReadOnlyList<string> Outputs { get; } = ["analysis.json", "analysis.md"];
        public IReadOnlyList<string> Figures { get; } = [];
        public bool ByDefault => true;
        public IReadOnlyList<string> Needs { get; } = [];
        public StageOptions Options { get; } = new("analysis", (JsonObject)JsonSerializer.SerializeToNode(IblAnalysisOptions.Default, RunFolder.Json)!, Seeded: true,
            json => json.Deserialize<IblAnalysisOptions>(RunFolder.Json)!.Problem());

        public IReadOnlyList<string> InputKey(JsonObject options, long seed) => [options.ToJsonString(), seed.ToString(CultureInfo.InvariantCulture)];

        public StageOutcome Run(StageContext context)
        {
            var report = IblAnalysisOutput.Run(context.Folder, context.Options.Deserialize<IblAnalysisOptions>(RunFolder.Json)!, context.Seed, "best", context.Progress);
            return new StageOutcome(report, new Dictionary<string, double> { ["accuracy"] = report.AccuracyTimeoutsWrong }, null);
        }
    }
}
