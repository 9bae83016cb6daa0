using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using HmmRnn.Analysis.HmmEmulation;
using HmmRnn.Core;
using HmmRnn.Core.HiddenMarkov;
using HmmRnn.Host.Experiments;
using HmmRnn.Host.Output;
using HmmRnn.Host.Training;

namespace HmmRnn.Host.Tasks.Hmm;

/// <summary>The evaluation's size in an experiment file ("evaluation": { "sequences": … }).</summary>
/// <param name="Sequences">Sequences generated from the RNN.</param>
public sealed record EvaluationOptions(int Sequences = 10_000)
{
    /// <summary>The first bad field, or null.</summary>
    public Violation? Problem() => Sequences < 100 ? Violation.Of(nameof(Sequences), Sequences, "must be an integer ≥ 100")
        : ConfigRules.AtMost(nameof(Sequences), Sequences, MaxSequences);

    /// <summary>The memory bound on <see cref="Sequences"/>: 1,000,000 generated sequences.</summary>
    public const int MaxSequences = 1_000_000;
}

/// <summary>
/// The HMM-emulation task (Torre et al. 2025) as a plug-in: ReLU RNNs driven by noise learn to emit an HMM's sequences;
/// after training, <c>evaluate</c> (the RNN's statistics against the HMM's) and <c>reverse-engineer</c> (SPEC A5).
/// </summary>
public sealed class HmmDescriptor : ITaskDescriptor
{
    /// <summary>The one instance (the registry's line).</summary>
    public static HmmDescriptor Instance { get; } = new();

    /// <summary>The seed of the evaluation's generated sequences (as <c>train</c> uses).</summary>
    public const long EvaluationSeed = 1;

    private HmmDescriptor() => Stages = [new EvaluateStage(), new ReverseEngineerStage()];

    /// <inheritdoc />
    public string Name => "hmm";

    /// <inheritdoc />
    public IReadOnlyDictionary<string, Type> ConfigTypes { get; } = new Dictionary<string, Type> { ["hmm"] = typeof(HmmTrainingConfig) };

    /// <inheritdoc />
    public IReadOnlyList<string> Presets => HmmTrainingConfig.Presets;

    /// <inheritdoc />
    public IReadOnlyList<string> ModelKeys { get; } = ["hidden", "input", "recurrentIdentity"];

    /// <inheritdoc />
    public IReadOnlyList<string> ReservedKeys { get; } = ["hmm", "custom", "effectiveGradClip"];

    /// <inheritdoc />
    public IReadOnlyList<string> ExperimentKeys { get; } = ["hmm"];

    /// <inheritdoc />
    public ITaskConfig Example => HmmTrainingConfig.Preset("quick", "linear2");

    /// <summary>Memory bounds: |h| and d ≤ 4096, a batch ≤ 16,384 sequences (the Sinkhorn loss holds a batch × batch cost matrix), each split ≤ 1,000,000 sequences.</summary>
    public const int MaxHidden = 4096, MaxInput = 4096, MaxBatch = 16_384, MaxSequences = 1_000_000;

    /// <inheritdoc />
    public Violation? Limits(ITaskConfig config) => config is not HmmTrainingConfig c ? null
        : ConfigRules.AtMost(nameof(c.Hidden), c.Hidden, MaxHidden) ?? ConfigRules.AtMost(nameof(c.Input), c.Input, MaxInput)
          ?? ConfigRules.AtMost(nameof(c.Batch), c.Batch, MaxBatch) ?? ConfigRules.AtMost(nameof(c.TrainSequences), c.TrainSequences, MaxSequences)
          ?? ConfigRules.AtMost(nameof(c.ValidationSequences), c.ValidationSequences, MaxSequences) ?? ConfigRules.AtMost(nameof(c.TestSequences), c.TestSequences, MaxSequences);

    /// <inheritdoc />
    public IReadOnlyList<ITaskStage> Stages { get; }

    /// <inheritdoc />
    public IReadOnlyList<MetricColumn> Metrics { get; } =
    [
        new("faithful", "faithful", true), new("transitionError", "transition error"), new("meetsTransition", "≤ 0.01 (paper)", true), new("bounded", "bounded", true),
        new("lagError", "lag error (k ≤ 20)"), new("meetsLag", "lags within 0.02", true), new("meetsDwell", "dwell within 10%", true),
        new("meetsLogLikelihood", "log-lik. within 2%", true), new("rnnLogLikelihood", "log-lik./step RNN"), new("hmmLogLikelihood", "log-lik./step HMM"),
        .. ClaimVerdicts.Names.Select(n => new MetricColumn(n.Key, n.Short, true)),
    ];

    /// <inheritdoc />
    public MetricColumn? SweepMetric { get; } = new("transitionError", "transition-matrix squared error (mean over seeds)");

    /// <inheritdoc />
    public string? ExperimentSection(RunFolder experiment, IReadOnlyList<PointSummary> summaries, Func<string, string> anchor) =>
        AtlasSection.Compose(experiment, summaries, anchor);

    /// <inheritdoc />
    public string ExportLayout => "HMM runs (ReLU RNN, float32): W_rec [H, H], W_in [H, D] (columns: noise dimensions), W_out [O, H] (rows: the HMM's symbols).";

    /// <summary>
    /// The preset for the experiment's "hmm": a catalogue name, or custom matrices
    /// <c>{initial, transition, emission, sequenceLength}</c> (optionally <c>name</c>, <c>family</c>).
    /// </summary>
    public ITaskConfig Preset(string preset, JsonObject experiment)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        var hmm = experiment["hmm"] ?? throw new ExperimentException("hmm", "required for task hmm: a catalogue name (" + string.Join(", ", HmmCatalogue.Names) + ") or {initial, transition, emission, sequenceLength}", "nothing");
        if (hmm is JsonValue v && v.TryGetValue<string>(out var catalogueName))
        {
            if (HmmCatalogue.Problem(catalogueName) is { } unknown) ExperimentJson.Fail("hmm", unknown.Rule, ExperimentJson.Show(hmm));
            return HmmTrainingConfig.Preset(preset, catalogueName);
        }
        if (hmm is not JsonObject custom) throw new ExperimentException("hmm", "must be a catalogue name or an object with initial, transition, emission, sequenceLength", ExperimentJson.Show(hmm));
        ExperimentJson.Known(custom, "hmm", ["name", "initial", "transition", "emission", "sequenceLength", "family"]);
        foreach (var key in new[] { "initial", "transition", "emission", "sequenceLength" })
            if (custom[key] is null) ExperimentJson.Fail($"hmm.{key}", "required", "nothing");
        var customName = ExperimentJson.String(custom, "name", prefix: "hmm.") ?? "custom";
        CustomHmm matrices;
        try
        {
            var json = (JsonObject)custom.DeepClone();
            json.Remove("name");
            matrices = json.Deserialize<CustomHmm>(RunFolder.Json) ?? throw new ExperimentException("hmm", "empty", "null");
        }
        catch (JsonException e) { throw new ExperimentException($"hmm{ExperimentJson.JsonPath(e)}", "wrong type (numbers, arrays of numbers and arrays of rows; family: linear-chain, fully-connected or cyclic)", ExperimentJson.Show(custom)); }
        // The matrices' problems as data (Core's own checks), the field a path inside "hmm": nothing is read out of a message.
        if (matrices.Problem() is { } problem) throw new ExperimentException($"hmm.{problem.Field}", problem.Rule, problem.Value);
        return HmmTrainingConfig.Preset(preset, customName, matrices);
    }

    /// <inheritdoc />
    public (IReadOnlyList<NpyArray> Arrays, string Checkpoint) Export(RunFolder folder, ITaskConfig config, string checkpoint)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var (_, model, w, file, _) = HmmAnalysisOutput.Load(folder, checkpoint);
        using (model)
            return (NetworkExport.Relu(w, "h_t = relu(W_rec h_(t-1) + W_in z_t), h_0 = 0, z_t ~ N(0, I) (noise, no biases); " +
                                          "o_t = argmax(W_out h_t + g_t), g_t Gumbel(0, 1): the hard Gumbel-softmax sample of training",
                [.. Enumerable.Range(0, w.Input).Select(i => $"noise {i}")], [.. Enumerable.Range(0, w.Outputs).Select(i => $"symbol {i}")]), file);
    }

    private static JsonObject Defaults<T>(T options) => (JsonObject)JsonSerializer.SerializeToNode(options, RunFolder.Json)!;

    /// <summary><c>evaluate</c>: generate from the RNN and measure it against its HMM (evaluation.json/.md and PNGs).</summary>
    private sealed class EvaluateStage : ITaskStage
    {
        public string Name => "evaluate";
        public string Title => "The trained RNN beside its HMM";
        public string Markdown => "evaluation.md";
        public IReadOnlyList<string> Outputs { get; } = ["evaluation.json", "evaluation.md"];
        public IReadOnlyList<string> Figures { get; } = ["loss.png", "transition.png", "dwell.png", "lag.png"];
        public bool ByDefault => true;
        public IReadOnlyList<string> Needs { get; } = [];
        public StageOptions Options { get; } = new("evaluation", Defaults(new EvaluationOptions()), Seeded: false,
            json => json.Deserialize<EvaluationOptions>(RunFolder.Json)!.Problem());

        public IReadOnlyList<string> InputKey(JsonObject options, long seed) =>
            [Sequences(options).ToString(CultureInfo.InvariantCulture), EvaluationSeed.ToString(CultureInfo.InvariantCulture)];

        private static int Sequences(JsonObject options) => options.Deserialize<EvaluationOptions>(RunFolder.Json)!.Sequences;

        public StageOutcome Run(StageContext context)
        {
            var report = Evaluation.Run(context.Folder, Sequences(context.Options), EvaluationSeed);
            var m = report.Metrics;
            var v = m.Verdicts;
            var metrics = new Dictionary<string, double>
            {
                ["transitionError"] = m.TransitionError, ["rnnLogLikelihood"] = m.RnnLogLikelihoodPerStep, ["hmmLogLikelihood"] = m.HmmLogLikelihoodPerStep,
                ["meetsTransition"] = v.Transition ? 1 : 0, ["meetsDwell"] = v.Dwell ? 1 : 0, ["meetsLogLikelihood"] = v.LogLikelihood ? 1 : 0,
                ["lagError"] = m.LagError, ["meetsLag"] = v.Lag ? 1 : 0, ["faithful"] = v.Faithful ? 1 : 0,
            };
            if (v.Bounded is bool bounded) metrics["bounded"] = bounded ? 1 : 0;
            return new StageOutcome(report, metrics,
                $"transition error {m.TransitionError:F4} ({(v.Transition ? "meets" : "misses")} the paper's 0.01)");
        }
    }

    /// <summary><c>reverse-engineer</c>: SPEC A5's analyses and the stochastic-resonance sweep (analysis.json/.md and PNGs).</summary>
    private sealed class ReverseEngineerStage : ITaskStage
    {
        public string Name => "reverse-engineer";
        public string Title => "Opened up";
        public string Markdown => "analysis.md";
        public IReadOnlyList<string> Outputs { get; } = ["analysis.json", "analysis.md"];
        public IReadOnlyList<string> Figures { get; } = [];
        public bool ByDefault => true;
        public IReadOnlyList<string> Needs { get; } = ["evaluate"];
        public StageOptions Options { get; } = new("analysis", Defaults(HmmAnalysisOptions.Default), Seeded: true,
            json => json.Deserialize<HmmAnalysisOptions>(RunFolder.Json)!.Problem());

        public IReadOnlyList<string> InputKey(JsonObject options, long seed) => [options.ToJsonString(), seed.ToString(CultureInfo.InvariantCulture)];

        public StageOutcome Run(StageContext context)
        {
            var options = context.Options.Deserialize<HmmAnalysisOptions>(RunFolder.Json)!;
            var (report, resonance) = HmmAnalysisOutput.Run(context.Folder, "best", options, new ResonanceOptions(), context.Seed, context.Progress);
            var claims = Claims.Score(report, resonance).ToMetrics();
            var held = ClaimVerdicts.Names.Where(n => claims.GetValueOrDefault(n.Key) == 1).Select(n => n.Key["claim".Length..]).ToList();
            return new StageOutcome((report, resonance), claims, $"claims held: {(held.Count == 0 ? "none" : string.Join(", ", held))}");
        }
    }
}
