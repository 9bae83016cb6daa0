using System.Text.Json.Nodes;
using HmmRnn.Core;
using HmmRnn.Host.Experiments;
using HmmRnn.Host.Output;
using HmmRnn.Host.Training;

namespace HmmRnn.Host.Tasks;

/// <summary>
/// A task as a plug-in: everything the experiment loader, the pipeline, the report, the sweep table and <c>export</c>
/// need to know about one task, so that none of them names it. A task's folder under src/Host/Tasks/ brings one
/// descriptor; <see cref="TaskRegistry"/> lists them.
/// </summary>
public interface ITaskDescriptor
{
    /// <summary>The task's name: <c>"task"</c> in experiment files and config.json, the JSON discriminator of its configuration.</summary>
    string Name { get; }

    /// <summary>Every configuration type the task trains, by discriminator (its own <see cref="Name"/> among them; IBL adds its distilled students).</summary>
    IReadOnlyDictionary<string, Type> ConfigTypes { get; }

    /// <summary>The presets an experiment file may name; the first is the default.</summary>
    IReadOnlyList<string> Presets { get; }

    /// <summary>The configuration fields an experiment file sets under "model"; every other field it may set goes under "training".</summary>
    IReadOnlyList<string> ModelKeys { get; }

    /// <summary>Configuration fields no section of an experiment file sets (set elsewhere in the file, or derived).</summary>
    IReadOnlyList<string> ReservedKeys { get; }

    /// <summary>Top-level keys of an experiment file that only this task reads (HMM: "hmm", the model to emulate).</summary>
    IReadOnlyList<string> ExperimentKeys { get; }

    /// <summary>
    /// The configuration an experiment of this task starts from: <paramref name="preset"/>, completed by the task's own
    /// top-level keys of <paramref name="experiment"/> (<see cref="ExperimentKeys"/>).
    /// </summary>
    /// <exception cref="Experiments.ExperimentException">a bad or missing key of the task's own; the message names its JSON path.</exception>
    ITaskConfig Preset(string preset, JsonObject experiment);

    /// <summary>A configuration whose JSON lists every field (what <see cref="Experiments.Experiment.Settings"/> publishes).</summary>
    ITaskConfig Example { get; }

    /// <summary>
    /// The first size of <paramref name="config"/> (one of <see cref="ConfigTypes"/>) beyond the task's memory bounds, as
    /// <see cref="ConfigRules.AtMost"/> words it, or null. Every configuration's <c>Check()</c> applies it
    /// (<see cref="ConfigRules.CheckLoop"/>), so a typo such as 100,000 hidden units is refused before anything is allocated
    /// or written; the bounds are listed in docs/architecture.md.
    /// </summary>
    Violation? Limits(ITaskConfig config);

    /// <summary>What runs after training, in order.</summary>
    IReadOnlyList<ITaskStage> Stages { get; }

    /// <summary>The headline numbers its stages report, with their column titles, in the order tables show them.</summary>
    IReadOnlyList<MetricColumn> Metrics { get; }

    /// <summary>
    /// The summary's column for the best epoch's validation loss, named for what it is (default "validationLoss", the training
    /// objective on validation data; IBL's is 1 − accuracy, "validationErrorRate").
    /// </summary>
    MetricColumn ValidationLoss => new("validationLoss", "validation loss");

    /// <summary>The metric a sweep plots against its first axis, with the plot's label; null for none.</summary>
    MetricColumn? SweepMetric { get; }

    /// <summary>What <c>export</c> writes for this task's runs, for its help text.</summary>
    string ExportLayout { get; }

    /// <summary>
    /// A section of an experiment's report, before its summary table, drawn from all its points (e.g. the HMM task's claims
    /// table); null for none. <paramref name="anchor"/> gives the report's link target of a point's section.
    /// </summary>
    string? ExperimentSection(RunFolder experiment, IReadOnlyList<PointSummary> summaries, Func<string, string> anchor) => null;

    /// <summary>The trained network of a run of this task at a checkpoint, as NumPy arrays, and the checkpoint's file name.</summary>
    /// <exception cref="InvalidDataException">a damaged checkpoint or a run of another task.</exception>
    /// <exception cref="FileNotFoundException">no such checkpoint.</exception>
    (IReadOnlyList<NpyArray> Arrays, string Checkpoint) Export(RunFolder folder, ITaskConfig config, string checkpoint);
}

/// <summary>A headline number of a point: its key in summary.json and its column title.</summary>
/// <param name="Key">camelCase key ("transitionError").</param>
/// <param name="Title">Column title ("transition error").</param>
/// <param name="Verdict">A yes/no verdict stored as 1/0: tables show "yes" or "no".</param>
public sealed record MetricColumn(string Key, string Title, bool Verdict = false);

/// <summary>
/// Where a stage's options live in an experiment file and how they are checked: a JSON object (section) of the options'
/// fields, and optionally a "seed".
/// </summary>
/// <param name="Section">The top-level key ("evaluation", "analysis").</param>
/// <param name="Defaults">The options' fields at their defaults (the keys the section accepts).</param>
/// <param name="Seeded">Whether the section also takes a "seed" (default 1).</param>
/// <param name="Check">Reads the options as their typed record and returns the first bad field (null: all good); throws <see cref="System.Text.Json.JsonException"/> for a value of the wrong type.</param>
public sealed record StageOptions(string Section, JsonObject Defaults, bool Seeded, Func<JsonObject, Violation?> Check);

/// <summary>What a stage is given: the point's folder and configuration, its options (resolved JSON), its seed, and a progress line sink.</summary>
/// <param name="Folder">The run folder (the training is done; its best checkpoint is there).</param>
/// <param name="Config">The run's configuration.</param>
/// <param name="Options">The stage's options section, resolved (defaults with the file's overrides).</param>
/// <param name="Seed">The section's seed (1 unless the file sets it).</param>
/// <param name="Progress">Where to report progress lines.</param>
public sealed record StageContext(RunFolder Folder, ITaskConfig Config, JsonObject Options, long Seed, Action<string> Progress);

/// <summary>What a stage returns: its typed result, the headline numbers it contributes to the point's summary, and a one-line headline.</summary>
/// <param name="Result">The stage's own result record (e.g. the evaluation report).</param>
/// <param name="Metrics">Headline numbers by key (<see cref="ITaskDescriptor.Metrics"/>).</param>
/// <param name="Headline">One line for the console, or null.</param>
public sealed record StageOutcome(object Result, IReadOnlyDictionary<string, double> Metrics, string? Headline);

/// <summary>One stage after training (evaluate, analyse): it reads the trained network and writes its files into the run folder.</summary>
public interface ITaskStage
{
    /// <summary>Its name in an experiment's "analyses" and in stages.json.</summary>
    string Name { get; }

    /// <summary>The report's heading above its Markdown.</summary>
    string Title { get; }

    /// <summary>The Markdown file it writes, which the report includes.</summary>
    string Markdown { get; }

    /// <summary>The files whose presence (with an unchanged input) means the stage is done.</summary>
    IReadOnlyList<string> Outputs { get; }

    /// <summary>Its figures, for a run folder written without a stage record (<c>train</c> then <c>evaluate</c>).</summary>
    IReadOnlyList<string> Figures { get; }

    /// <summary>Whether it runs when an experiment file lists no "analyses".</summary>
    bool ByDefault { get; }

    /// <summary>Stages it needs run too when it is chosen.</summary>
    IReadOnlyList<string> Needs { get; }

    /// <summary>Its options in an experiment file.</summary>
    StageOptions Options { get; }

    /// <summary>What, besides the trained checkpoint, decides whether a finished stage is still up to date.</summary>
    IReadOnlyList<string> InputKey(JsonObject options, long seed);

    /// <summary>Runs the stage; writes its outputs into the folder.</summary>
    StageOutcome Run(StageContext context);
}
