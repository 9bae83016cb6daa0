using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using HmmRnn.Host.Output;
using HmmRnn.Host.Tasks;
using HmmRnn.Host.Training;

namespace HmmRnn.Host.Experiments;

/// <summary>What one point ended with: its coordinates and headline numbers (the row of a sweep table).</summary>
/// <param name="Id">The point's folder name.</param>
/// <param name="Coordinates">Sweep path → value, and the seed.</param>
/// <param name="Metrics">Headline numbers by name (e.g. transitionError, accuracy, trainSeconds).</param>
public sealed record PointSummary(string Id, IReadOnlyDictionary<string, string> Coordinates, IReadOnlyDictionary<string, double> Metrics);

/// <summary>What stages.json records of a finished stage: its input hash, its outputs, and what the report and the summary need.</summary>
/// <param name="Input">The hash of everything the stage read (configuration, upstream output, options, seed).</param>
/// <param name="Outputs">Its files; all must be present for the stage to count as done.</param>
public sealed record StageRecord(string Input, IReadOnlyList<string> Outputs)
{
    /// <summary>The figures it wrote, in the order written (null for training).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Figures { get; init; }

    /// <summary>Wall-clock seconds it took.</summary>
    public double? Seconds { get; init; }

    /// <summary>Training only: the epoch (from 1) in which it diverged, its best checkpoint being of an earlier one (null: it did not).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? DivergedAtEpoch { get; init; }

    /// <summary>The headline numbers it returned (null for training): the summary of a rerun that skips the stage takes them from here.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, double>? Metrics { get; init; }
}

/// <summary>What an experiment's output folder records of it (its experiment.json, <see cref="Experiment.ToJson"/>): what the report and the sweep table read back.</summary>
/// <param name="Name">The experiment's name.</param>
/// <param name="Description">Its description.</param>
/// <param name="Task">Its task.</param>
/// <param name="Preset">Its preset.</param>
/// <param name="PointIds">Its points' folder names, in point order.</param>
public sealed record ExperimentRecord(string Name, string Description, string Task, string Preset, IReadOnlyList<string> PointIds)
{
    /// <summary>Reads <paramref name="root"/>'s experiment.json.</summary>
    /// <exception cref="InvalidDataException">no such file, or not what 'run' writes; the message names the file.</exception>
    public static ExperimentRecord Read(RunFolder root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var path = root.PathOf(Pipeline.ExperimentFile);
        if (!File.Exists(path)) throw new InvalidDataException($"{root.Path}: no {Pipeline.ExperimentFile}; not the output of 'run' or 'sweep'");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var e = doc.RootElement;
            if (e.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: must be a JSON object as 'run' writes it");
            string Text(string key, bool required = true) =>
                e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()!
                : required ? throw new InvalidDataException($"{path}: {key}: required (a string), as 'run' writes it") : "";
            if (!e.TryGetProperty("points", out var points) || points.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"{path}: points: required (an array), as 'run' writes it");
            var ids = points.EnumerateArray().Select((p, i) =>
                p.ValueKind == JsonValueKind.Object && p.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String && id.GetString() is { Length: > 0 } s
                    && s == Path.GetFileName(s) && s is not ("." or "..") ? s
                    : throw new InvalidDataException($"{path}: points[{i}].id: required (a folder name), as 'run' writes it")).ToList();
            return new ExperimentRecord(Text("name"), Text("description", required: false), Text("task"), Text("preset", required: false), ids);
        }
        catch (JsonException x) { throw new InvalidDataException($"{path}: not valid JSON (line {x.LineNumber + 1})", x); }
    }
}

/// <summary>
/// <c>run</c> and <c>sweep</c>: each point through train, then its task's stages (<see cref="ITaskDescriptor.Stages"/>),
/// then the report. Resumable: a point's <c>stages.json</c> records each finished stage's input hash (its configuration and
/// its upstream output), so a rerun skips what is unchanged, and an interrupted training resumes from its last checkpoint.
/// A stage's headline numbers flow into the point's summary as values (and are recorded for the reruns that skip it).
/// </summary>
public static class Pipeline
{
    /// <summary>The stage record and the summary inside a point folder; the resolved experiment inside the output folder.</summary>
    public const string StagesFile = "stages.json", SummaryFile = "summary.json", ExperimentFile = "experiment.json", PointsFolder = "points";

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
            catch (InvalidDataException e) { return ExitCode.Refuse($"{e.Message}; delete it to train afresh"); }
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
        catch (IOException e) { return ExitCode.Refuse($"point {point.Id}: {e.Message}"); }
        using (held) return await RunPointLocked(experiment, folder, point, token);
    }

    private static async Task<int> RunPointLocked(Experiment experiment, RunFolder folder, ExperimentPoint point, CancellationToken token)
    {
        var stages = ReadStages(folder);

        // train: its input is the whole configuration (epochs included: more epochs resume the same run).
        var trainInput = RunConfig.HashOf(point.Config);
        TrainingState state;
        try { state = TrainingStateOf(point, folder); }
        catch (InvalidDataException e) { return ExitCode.Refuse($"{e.Message}; delete it to train afresh"); }
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
            var clock = Stopwatch.StartNew();
            var (code, result, diverged) = await TrainingSession.RunLocked(folder, point.Config, resume, tensorboard: experiment.TensorBoard, checkpointEvery: 0, token);
            // A training that diverged after a best checkpoint is a network too (an atlas of many seeds must not stop at one):
            // its stages run on that checkpoint and its summary says where it diverged. Rerunning would diverge again (the
            // resume is exact), so the stage counts as done.
            if (diverged is { BestEpoch: > 0 })
                Console.Error.WriteLine($"  train: diverged at epoch {diverged.Epoch}; the stages use the best checkpoint (epoch {diverged.BestEpoch})");
            else if (code != 0) return code;
            stages["train"] = new StageRecord(trainInput, [Trainer.BestCheckpoint])
            {
                Seconds = result?.Elapsed.TotalSeconds ?? clock.Elapsed.TotalSeconds, DivergedAtEpoch = diverged?.Epoch,
            };
            WriteStages(folder, stages);
        }
        var trained = ContentHash.OfFile(Trainer.CheckpointPath(folder, "best"));

        // Each chosen stage of the task, in order; its headline numbers flow on into the summary as values.
        var metrics = new List<KeyValuePair<string, double>>();
        try
        {
            foreach (var stage in experiment.Descriptor.Stages.Where(s => experiment.Stages.Contains(s.Name)))
            {
                var settings = experiment.SettingsOf(stage);
                var input = Hash([trained, .. stage.InputKey(settings.Options, settings.Seed)]);
                metrics.AddRange(Stage(folder, stages, stage, input, () => new StageContext(folder, point.Config, settings.Options, settings.Seed, _ => { })));
            }
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException) { return ExitCode.Refuse(e.Message); }
        folder.WriteJson(SummaryFile, Summarise(folder, point, stages, metrics));
        return 0;
    }

    /// <summary>Runs a stage unless its record says it is up to date; returns its headline numbers (from its outcome, or from its record).</summary>
    private static IReadOnlyDictionary<string, double> Stage(RunFolder folder, Dictionary<string, StageRecord> stages, ITaskStage stage, string input, Func<StageContext> context)
    {
        var name = stage.Name;
        if (Done(stages, name, input, folder) && stages[name].Metrics is { } recorded)
        {
            Console.Error.WriteLine($"  {name}: up to date");
            return recorded;
        }
        Console.Error.WriteLine($"  {name}");
        var clock = Stopwatch.StartNew();
        var before = Pngs(folder);
        void Progress(string s) => Console.Error.WriteLine($"    {clock.Elapsed.TotalSeconds,6:F1} s  {s}");
        var outcome = stage.Run(context() with { Progress = Progress });
        if (outcome.Headline is { } headline) Console.Error.WriteLine($"  {name}: {headline}");
        // Figures the stage wrote, in the order they were written, for the report.
        var figures = Directory.GetFiles(folder.Path, "*.png").Select(p => new FileInfo(p))
            .Where(f => !before.TryGetValue(f.Name, out var t) || f.LastWriteTimeUtc > t).OrderBy(f => f.LastWriteTimeUtc).ThenBy(f => f.Name)
            .Select(f => f.Name).ToArray();
        stages[name] = new StageRecord(input, [.. stage.Outputs])
        {
            Figures = figures, Seconds = clock.Elapsed.TotalSeconds, Metrics = new SortedDictionary<string, double>(outcome.Metrics.ToDictionary(), StringComparer.Ordinal),
        };
        WriteStages(folder, stages);
        return outcome.Metrics;
    }

    private static Dictionary<string, DateTime> Pngs(RunFolder folder) =>
        Directory.GetFiles(folder.Path, "*.png").ToDictionary(p => Path.GetFileName(p), File.GetLastWriteTimeUtc);

    private static PointSummary Summarise(RunFolder folder, ExperimentPoint point, Dictionary<string, StageRecord> stages, IEnumerable<KeyValuePair<string, double>> stageMetrics)
    {
        var metrics = new SortedDictionary<string, double>(StringComparer.Ordinal);
        if (stages.TryGetValue("train", out var train) && train.Seconds is double s) metrics["trainSeconds"] = s;
        if (train?.DivergedAtEpoch is int diverged) metrics["divergedAtEpoch"] = diverged;
        var rows = MetricsLog.ReadEpochs(folder);
        if (rows.Count > 0)
        {
            var best = rows.Where(r => r.IsBest).LastOrDefault() ?? rows[^1];
            metrics["bestEpoch"] = best.Epoch;
            metrics[TaskRegistry.Of(point.Config).ValidationLoss.Key] = best.ValidationLoss;
        }
        foreach (var (key, value) in stageMetrics) metrics[key] = value;
        // Times differ between machines and runs; everything else is a function of the configuration.
        return new PointSummary(point.Id, point.Coordinates, metrics);
    }

    /// <summary>A point folder's stage records by stage name (empty when none or unreadable: then every stage runs again).</summary>
    public static Dictionary<string, StageRecord> ReadStages(RunFolder folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        try { return JsonSerializer.Deserialize<Dictionary<string, StageRecord>>(File.ReadAllText(folder.PathOf(StagesFile)), RunFolder.Json) ?? []; }
        catch (Exception e) when (e is IOException or JsonException) { return []; }
    }

    private static void WriteStages(RunFolder folder, Dictionary<string, StageRecord> stages) => folder.WriteJson(StagesFile, stages);

    private enum TrainingState { UpToDate, Fresh, Resume, OtherConfiguration }

    /// <summary>
    /// What a point's folder holds for its training: done with this configuration, nothing, a run to resume, or a run of
    /// another configuration (to start afresh). A damaged checkpoint throws <see cref="InvalidDataException"/>.
    /// </summary>
    private static TrainingState TrainingStateOf(ExperimentPoint point, RunFolder folder)
    {
        if (Done(ReadStages(folder), "train", RunConfig.HashOf(point.Config), folder)) return TrainingState.UpToDate;
        try { return Trainer.ResumePoint(point.Config, folder) is null ? TrainingState.Fresh : TrainingState.Resume; }
        catch (ResumeRefusedException) { return TrainingState.OtherConfiguration; }
    }

    private static bool Done(Dictionary<string, StageRecord> stages, string name, string input, RunFolder folder) =>
        stages.TryGetValue(name, out var s) && s.Input == input && s.Outputs.All(o => File.Exists(folder.PathOf(o)));

    /// <summary>Removes a stale run's files (another configuration) so that training starts afresh.</summary>
    private static void Clear(RunFolder folder)
    {
        foreach (var name in new[] { StagesFile, SummaryFile, MetricsLog.CsvName, MetricsLog.EventsName, RunConfig.FileName })
            File.Delete(folder.PathOf(name));
        if (Directory.Exists(folder.PathOf("checkpoints"))) Directory.Delete(folder.PathOf("checkpoints"), recursive: true);
    }

    private static string Hash(params IEnumerable<object> parts) =>
        ContentHash.Of(string.Join("|", parts.Select(p => Convert.ToString(p, CultureInfo.InvariantCulture))));
}
