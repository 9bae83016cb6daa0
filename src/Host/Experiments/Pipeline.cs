using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using HmmRnn.Host.Cli;
using HmmRnn.Host.Output;
using HmmRnn.Host.Tasks.Hmm;
using HmmRnn.Host.Tasks.Ibl;
using HmmRnn.Host.Training;

namespace HmmRnn.Host.Experiments;

/// <summary>What one point ended with: its coordinates and headline numbers (the row of a sweep table).</summary>
/// <param name="Id">The point's folder name.</param>
/// <param name="Coordinates">Sweep path → value, and the seed.</param>
/// <param name="Metrics">Headline numbers by name (e.g. transitionError, accuracy, trainSeconds).</param>
public sealed record PointSummary(string Id, IReadOnlyDictionary<string, string> Coordinates, IReadOnlyDictionary<string, double> Metrics);

/// <summary>
/// <c>run</c> and <c>sweep</c>: each point through train → evaluate → analyse, then the report. The stages call the same
/// job functions as the single verbs (<see cref="TrainCommands.Execute"/>, <see cref="Evaluation.Run"/>,
/// <see cref="HmmAnalysisOutput.Run"/>, <see cref="IblAnalysisOutput.Run"/>). Resumable: a point's <c>stages.json</c>
/// records each finished stage's input hash (its configuration and its upstream output), so a rerun skips what is
/// unchanged, and an interrupted training resumes from its last checkpoint.
/// </summary>
public static class Pipeline
{
    /// <summary>The stage record and the summary inside a point folder; the resolved experiment inside the output folder.</summary>
    public const string StagesFile = "stages.json", SummaryFile = "summary.json", ExperimentFile = "experiment.json", PointsFolder = "points";

    /// <summary>Seed of the evaluation's generated sequences (as <c>train</c> uses).</summary>
    public const long EvaluationSeed = 1;

    /// <summary>Runs <paramref name="points"/> of <paramref name="experiment"/> under <paramref name="root"/>; returns 0, or the first failing exit code.</summary>
    public static async Task<int> Run(Experiment experiment, RunFolder root, IReadOnlyList<ExperimentPoint> points, CancellationToken token)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(points);
        // Before any output: a damaged checkpoint of a training still to be done is one error, not a failure halfway.
        foreach (var point in points)
        {
            var folder = Path.Combine(root.Path, PointsFolder, point.Id);
            if (!File.Exists(Path.Combine(folder, Training.Trainer.LastCheckpoint))) continue;
            try { _ = TrainingStateOf(point, RunFolder.Create(folder)); }
            catch (InvalidDataException e) { return Cli.Cli.Fail($"{e.Message}; delete it to train afresh"); }
        }
        // Rewritten only when it changes: shards share the folder, and a rerun that fails early must leave it untouched.
        var resolved = experiment.ToJson().ToJsonString(RunFolder.Json);
        if (!File.Exists(root.PathOf(ExperimentFile)) || File.ReadAllText(root.PathOf(ExperimentFile)) != resolved)
            root.WriteText(ExperimentFile, resolved);
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < points.Count; i++)
        {
            var point = points[i];
            Console.Error.WriteLine($"[{i + 1}/{points.Count}] {experiment.Name}/{point.Id}: {point.Config.Describe()}");
            var code = await RunPoint(experiment, RunFolder.Create(Path.Combine(root.Path, PointsFolder, point.Id)), point, token);
            if (code != 0) return code;
        }
        Console.Error.WriteLine($"{points.Count} point(s) done in {clock.Elapsed.TotalSeconds:F0} s");
        return 0;
    }

    private static async Task<int> RunPoint(Experiment experiment, RunFolder folder, ExperimentPoint point, CancellationToken token)
    {
        // The point's folder is this process's from its training stage to its summary: another 'run' or shard on it is refused.
        RunLock held;
        try { held = RunLock.Acquire(folder); }
        catch (IOException e) { return Cli.Cli.Fail($"point {point.Id}: {e.Message}"); }
        using (held) return await RunPointLocked(experiment, folder, point, token);
    }

    private static async Task<int> RunPointLocked(Experiment experiment, RunFolder folder, ExperimentPoint point, CancellationToken token)
    {
        var stages = ReadStages(folder);

        // train: its input is the whole configuration (epochs included: more epochs resume the same run).
        var trainInput = RunConfig.HashOf(point.Config);
        TrainingState state;
        try { state = TrainingStateOf(point, folder); }
        catch (InvalidDataException e) { return Cli.Cli.Fail($"{e.Message}; delete it to train afresh"); }
        if (state == TrainingState.UpToDate)
            Console.Error.WriteLine("  train: up to date");
        else
        {
            if (state == TrainingState.OtherConfiguration)
            {
                Console.Error.WriteLine("  train: the folder holds a run of another configuration; starting afresh");
                Clear(folder);
            }
            var resume = state == TrainingState.Resume;
            Console.Error.WriteLine(resume ? "  train: resuming from the last checkpoint" : "  train");
            var (code, result) = await TrainCommands.ExecuteLocked(folder, point.Config, resume, tensorboard: false, checkpointEvery: 0, token);
            if (code != 0) return code;
            stages["train"] = Record(trainInput, [Trainer.BestCheckpoint]);
            stages["train"]!["seconds"] = result?.Elapsed.TotalSeconds;
            WriteStages(folder, stages);
        }
        var trained = ContentHash.OfFile(Trainer.CheckpointPath(folder, "best"));

        try
        {
            if (point.Config is HmmTrainingConfig && experiment.Analyses.Evaluate)
                Stage(folder, stages, "evaluate", Hash(trained, experiment.EvaluationSequences, EvaluationSeed), ["evaluation.json", "evaluation.md"], () =>
                {
                    var report = Evaluation.Run(folder, experiment.EvaluationSequences, EvaluationSeed);
                    Console.Error.WriteLine($"  evaluate: transition error {report.Metrics.TransitionError:F4} ({(report.Metrics.Verdicts.Transition ? "meets" : "misses")} the paper's 0.01)");
                });
            if (experiment.Analyses.Analyze)
                Stage(folder, stages, experiment.Task == "hmm" ? "reverse-engineer" : "analyze",
                    Hash(trained, experiment.AnalysisOptions.ToJsonString(), experiment.AnalysisSeed), ["analysis.json", "analysis.md"], () =>
                    {
                        var clock = Stopwatch.StartNew();
                        void Progress(string s) => Console.Error.WriteLine($"    {clock.Elapsed.TotalSeconds,6:F1} s  {s}");
                        if (point.Config is HmmTrainingConfig)
                            HmmAnalysisOutput.Run(folder, "best", experiment.HmmAnalysis, new ResonanceOptions(), experiment.AnalysisSeed, Progress);
                        else
                            IblAnalysisOutput.Run(folder, experiment.IblAnalysis, experiment.AnalysisSeed, "best", Progress);
                    });
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException or ArgumentException)
        {
            return Cli.Cli.Fail(e.Message.Split(" (Parameter")[0]);
        }
        folder.WriteJson(SummaryFile, Summarise(folder, point, stages));
        return 0;
    }

    private static void Stage(RunFolder folder, JsonObject stages, string name, string input, string[] outputs, Action run)
    {
        if (Done(stages, name, input, folder)) { Console.Error.WriteLine($"  {name}: up to date"); return; }
        Console.Error.WriteLine($"  {name}");
        var clock = Stopwatch.StartNew();
        var before = Pngs(folder);
        run();
        // Figures the stage wrote, in the order they were written, for the report.
        var figures = Directory.GetFiles(folder.Path, "*.png").Select(p => new FileInfo(p))
            .Where(f => !before.TryGetValue(f.Name, out var t) || f.LastWriteTimeUtc > t).OrderBy(f => f.LastWriteTimeUtc).ThenBy(f => f.Name)
            .Select(f => f.Name).ToArray();
        stages[name] = Record(input, outputs);
        stages[name]!["figures"] = new JsonArray([.. figures.Select(f => (JsonNode)f)]);
        stages[name]!["seconds"] = clock.Elapsed.TotalSeconds;
        WriteStages(folder, stages);
    }

    private static Dictionary<string, DateTime> Pngs(RunFolder folder) =>
        Directory.GetFiles(folder.Path, "*.png").ToDictionary(p => Path.GetFileName(p), File.GetLastWriteTimeUtc);

    private static PointSummary Summarise(RunFolder folder, ExperimentPoint point, JsonObject stages)
    {
        var metrics = new SortedDictionary<string, double>(StringComparer.Ordinal);
        if (stages["train"]?["seconds"]?.GetValue<double>() is double s) metrics["trainSeconds"] = s;
        var rows = MetricsLog.ReadEpochs(folder);
        if (rows.Count > 0)
        {
            var best = rows.Where(r => r.IsBest).LastOrDefault() ?? rows[^1];
            metrics["bestEpoch"] = best.Epoch;
            metrics["validationLoss"] = best.ValidationLoss;
        }
        if (File.Exists(folder.PathOf("evaluation.json")))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(folder.PathOf("evaluation.json")));
            var m = doc.RootElement.GetProperty("metrics");
            metrics["transitionError"] = m.GetProperty("transitionError").GetDouble();
            metrics["rnnLogLikelihood"] = m.GetProperty("rnnLogLikelihoodPerStep").GetDouble();
            metrics["hmmLogLikelihood"] = m.GetProperty("hmmLogLikelihoodPerStep").GetDouble();
            var v = m.GetProperty("verdicts");
            metrics["meetsTransition"] = v.GetProperty("transition").GetBoolean() ? 1 : 0;
            metrics["meetsDwell"] = v.GetProperty("dwell").GetBoolean() ? 1 : 0;
            metrics["meetsLogLikelihood"] = v.GetProperty("logLikelihood").GetBoolean() ? 1 : 0;
            metrics["lagError"] = m.GetProperty("lagError").GetDouble();
            metrics["meetsLag"] = v.GetProperty("lag").GetBoolean() ? 1 : 0;
            if (v.TryGetProperty("bounded", out var bounded) && bounded.ValueKind != JsonValueKind.Null) metrics["bounded"] = bounded.GetBoolean() ? 1 : 0;
            metrics["faithful"] = v.GetProperty("faithful").GetBoolean() ? 1 : 0;
        }
        if (point.Config is IblTrainingConfig && File.Exists(folder.PathOf("analysis.json")))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(folder.PathOf("analysis.json")));
            if (doc.RootElement.TryGetProperty("accuracyTimeoutsWrong", out var a)) metrics["accuracy"] = a.GetDouble();
        }
        // Times differ between machines and runs; everything else is a function of the configuration.
        return new PointSummary(point.Id, point.Coordinates, metrics);
    }

    /// <summary>A point folder's stage records (empty when none or unreadable: then every stage runs again).</summary>
    public static JsonObject ReadStages(RunFolder folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        try { return JsonNode.Parse(File.ReadAllText(folder.PathOf(StagesFile))) as JsonObject ?? []; }
        catch (Exception e) when (e is IOException or JsonException) { return []; }
    }

    private static void WriteStages(RunFolder folder, JsonObject stages) => folder.WriteText(StagesFile, stages.ToJsonString(RunFolder.Json));

    private enum TrainingState { UpToDate, Fresh, Resume, OtherConfiguration }

    /// <summary>
    /// What a point's folder holds for its training: done with this configuration, nothing, a run to resume, or a run of
    /// another configuration (to start afresh). A damaged checkpoint throws <see cref="InvalidDataException"/>.
    /// </summary>
    private static TrainingState TrainingStateOf(ExperimentPoint point, RunFolder folder)
    {
        if (Done(ReadStages(folder), "train", RunConfig.HashOf(point.Config), folder)) return TrainingState.UpToDate;
        try { return Trainer.ResumePoint(point.Config, folder) is null ? TrainingState.Fresh : TrainingState.Resume; }
        catch (InvalidOperationException) { return TrainingState.OtherConfiguration; }
    }

    private static bool Done(JsonObject stages, string name, string input, RunFolder folder) =>
        stages[name] is JsonObject s && s["input"]?.GetValue<string>() == input &&
        (s["outputs"] as JsonArray ?? []).All(o => File.Exists(folder.PathOf(o!.GetValue<string>())));

    private static JsonObject Record(string input, string[] outputs) =>
        new() { ["input"] = input, ["outputs"] = new JsonArray([.. outputs.Select(o => (JsonNode)o)]) };

    /// <summary>Removes a stale run's files (another configuration) so that training starts afresh.</summary>
    private static void Clear(RunFolder folder)
    {
        foreach (var name in new[] { StagesFile, SummaryFile, MetricsLog.CsvName, MetricsLog.EventsName, RunConfig.FileName })
            File.Delete(folder.PathOf(name));
        if (Directory.Exists(folder.PathOf("checkpoints"))) Directory.Delete(folder.PathOf("checkpoints"), recursive: true);
    }

    private static string Hash(params object[] parts) =>
        ContentHash.Of(string.Join("|", parts.Select(p => Convert.ToString(p, CultureInfo.InvariantCulture))));
}
