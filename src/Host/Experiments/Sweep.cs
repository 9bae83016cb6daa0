using System.Globalization;
using System.Text;
using System.Text.Json;
using HmmRnn.Host.Output;
using HmmRnn.Host.Plots;
using HmmRnn.Host.Tasks;

namespace HmmRnn.Host.Experiments;

/// <summary>Which share of a sweep's points this process runs: points i, i + n, i + 2n, … (0-based).</summary>
/// <param name="Index">i, from 0.</param>
/// <param name="Count">n, at least 1.</param>
public sealed record Shard(int Index, int Count)
{
    /// <summary>All points.</summary>
    public static Shard All { get; } = new(0, 1);

    /// <summary>Parses "i/n" (0 ≤ i &lt; n).</summary>
    /// <exception cref="ArgumentException">anything else; the message shows the value.</exception>
    public static Shard Parse(string text)
    {
        var parts = (text ?? "").Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var i)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 && i < n)
            return new Shard(i, n);
        throw new ArgumentException($"--shard: must be i/n with 0 ≤ i < n, got '{text}'");
    }

    /// <summary>
    /// The shard a Slurm array task runs (SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT, the array's indices 0 … n − 1),
    /// or null outside an array job.
    /// </summary>
    public static Shard? FromSlurm(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var id = environment("SLURM_ARRAY_TASK_ID");
        var count = environment("SLURM_ARRAY_TASK_COUNT");
        if (id is null || count is null) return null;
        var min = environment("SLURM_ARRAY_TASK_MIN") ?? "0";
        if (!int.TryParse(id, CultureInfo.InvariantCulture, out var i) || !int.TryParse(count, CultureInfo.InvariantCulture, out var n)
            || !int.TryParse(min, CultureInfo.InvariantCulture, out var m))
            throw new ArgumentException($"SLURM_ARRAY_TASK_ID = {id}, SLURM_ARRAY_TASK_COUNT = {count}: not integers");
        return Parse($"{i - m}/{n}");
    }

    /// <summary>This shard's points.</summary>
    public IReadOnlyList<ExperimentPoint> Select(IReadOnlyList<ExperimentPoint> points) =>
        [.. (points ?? throw new ArgumentNullException(nameof(points))).Where(p => p.Index % Count == Index)];
}

/// <summary>The table of a sweep: one row per point (coordinates, then metrics), as Markdown, CSV and plots.</summary>
public static class SweepTable
{
    /// <summary>What <c>sweep collect</c> writes.</summary>
    public const string CsvFile = "sweep.csv", MarkdownFile = "sweep.md", PlotFile = "sweep.png";

    // Wall-clock measures differ from run to run; the table holds only what the configuration determines.
    private static readonly string[] Timing = ["trainSeconds"];

    /// <summary>The points' summaries in point order, read from an experiment's output folder (points not run are absent).</summary>
    /// <exception cref="InvalidDataException">no or a damaged experiment.json or summary.json; the message names the file.</exception>
    public static IReadOnlyList<PointSummary> Read(RunFolder root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var list = new List<PointSummary>();
        foreach (var id in ExperimentRecord.Read(root).PointIds)
        {
            var file = Path.Combine(root.Path, Pipeline.PointsFolder, id, Pipeline.SummaryFile);
            if (!File.Exists(file)) continue;
            try { list.Add(JsonSerializer.Deserialize<PointSummary>(File.ReadAllText(file), RunFolder.Json) ?? throw new InvalidDataException($"{file}: empty")); }
            catch (JsonException e) { throw new InvalidDataException($"{file}: not a point summary as 'run' writes it (line {e.LineNumber + 1}); delete it and rerun the point", e); }
        }
        return list;
    }

    /// <summary>The metrics in the order tables show them, with their column titles in Markdown: every task's, then the training's.</summary>
    private static (string Key, string Title)[] Known =>
    [
        .. TaskRegistry.All.SelectMany(d => d.Metrics).Select(m => (m.Key, m.Title)).Distinct(),
        ("bestEpoch", "best epoch"), .. TaskRegistry.All.Select(d => d.ValidationLoss).Select(m => (m.Key, m.Title)).Distinct(),
    ];

    private static (string[] Coordinates, string[] Metrics) Columns(IReadOnlyList<PointSummary> rows)
    {
        var present = rows.SelectMany(r => r.Metrics.Keys).Distinct().Where(k => !Timing.Contains(k)).ToHashSet();
        var known = Known.Select(k => k.Key).Where(present.Contains);
        return ([.. rows.SelectMany(r => r.Coordinates.Keys).Distinct()],
            [.. known.Concat(present.Except(Known.Select(k => k.Key)).Order(StringComparer.Ordinal))]);
    }

    private static string Title(string metric) => Known.FirstOrDefault(k => k.Key == metric).Title ?? metric;

    private static string Value(PointSummary row, string metric) =>
        row.Metrics.TryGetValue(metric, out var v) ? v.ToString("R", CultureInfo.InvariantCulture) : "";

    /// <summary>The table as CSV (full precision; no timings, so that shards reproduce an unsharded run byte for byte).</summary>
    public static string Csv(IReadOnlyList<PointSummary> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var (coordinates, metrics) = Columns(rows);
        var sb = new StringBuilder();
        sb.AppendLine(string.Join(",", new[] { "point" }.Concat(coordinates).Concat(metrics)));
        foreach (var r in rows)
            sb.AppendLine(string.Join(",", new[] { r.Id }.Concat(coordinates.Select(c => r.Coordinates.GetValueOrDefault(c, ""))).Concat(metrics.Select(m => Value(r, m)))));
        return sb.ToString();
    }

    /// <summary>The table as Markdown (4 significant decimals; training time last).</summary>
    public static string Markdown(IReadOnlyList<PointSummary> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var (coordinates, metrics) = Columns(rows);
        var timed = rows.Any(r => r.Metrics.ContainsKey("trainSeconds"));
        var header = new[] { "point" }.Concat(coordinates).Concat(metrics.Select(Title)).Concat(timed ? ["training (s)"] : []).ToArray();
        var sb = new StringBuilder();
        sb.AppendLine("| " + string.Join(" | ", header) + " |");
        sb.AppendLine("|" + string.Concat(header.Select(_ => "---|")));
        foreach (var r in rows)
        {
            var cells = new[] { r.Id }.Concat(coordinates.Select(c => r.Coordinates.GetValueOrDefault(c, "")))
                .Concat(metrics.Select(m => r.Metrics.TryGetValue(m, out var v) ? Cell(m, v) : "–"))
                .Concat(timed ? [r.Metrics.TryGetValue("trainSeconds", out var t) ? Format.Cell(t, 0) : "–"] : []);
            sb.AppendLine("| " + string.Join(" | ", cells) + " |");
        }
        return sb.ToString();
    }

    /// <summary>A metric as a table shows it: verdicts (<see cref="MetricColumn.Verdict"/>) as yes/no, epochs as integers, the rest with 4 decimals.</summary>
    private static string Cell(string metric, double value) =>
        TaskRegistry.All.SelectMany(d => d.Metrics).Any(m => m.Verdict && m.Key == metric) ? (value != 0 ? "yes" : "no")
        : metric.EndsWith("Epoch", StringComparison.Ordinal) ? Format.Cell(value, 0)
        : Format.Cell(value, 4);

    /// <summary>
    /// Writes sweep.csv, sweep.md and (for a sweep over at least one numeric axis whose task names a sweep metric) sweep.png:
    /// that metric (HMM: the transition error) against the first axis, one line per value of the second (the paper's hidden × input grid).
    /// </summary>
    public static IReadOnlyList<PointSummary> Collect(RunFolder root)
    {
        var rows = Read(root);
        if (rows.Count == 0) throw new InvalidDataException($"{root.Path}: no finished points (no {Pipeline.PointsFolder}/*/{Pipeline.SummaryFile})");
        root.WriteText(CsvFile, Csv(rows));
        root.WriteText(MarkdownFile, Markdown(rows));
        Plot(root, rows);
        return rows;
    }

    private static void Plot(RunFolder root, IReadOnlyList<PointSummary> rows)
    {
        var axes = Columns(rows).Coordinates.Where(c => c != "seed").ToArray();
        // The first task's sweep metric that every row has (a sweep's points are all of one task).
        var plotted = TaskRegistry.All.Select(d => d.SweepMetric).FirstOrDefault(m => m is not null && rows.All(r => r.Metrics.ContainsKey(m.Key)));
        var metric = plotted?.Key;
        if (axes.Length == 0 || metric is null) return;
        double? Number(string s) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) ? x : null;
        var x = axes[0];
        if (rows.Any(r => Number(r.Coordinates[x]) is null)) return;
        var group = axes.Length > 1 ? axes[1] : null;
        // Per group: the mean over seeds as a line, and every seed's own value as a dot beside it (a mean of 2.41 and 0.50 is
        // not one number).
        var lines = rows.GroupBy(r => group is null ? "" : r.Coordinates[group])
            .SelectMany((g, i) => new[]
            {
                new Line(group is null ? "mean over seeds" : $"{Words(group)} = {g.Key}: mean over seeds",
                    g.GroupBy(r => Number(r.Coordinates[x])!.Value).OrderBy(p => p.Key)
                        .Select(p => (p.Key, p.Average(r => r.Metrics[metric]))).ToArray(), Group: i),
                new Line(i == 0 ? "each seed" : "", g.Select(r => (Number(r.Coordinates[x])!.Value, r.Metrics[metric])).ToArray(), Group: i) { MarkersOnly = true },
            })
            .ToList();
        // The metric's own name: its title says "(mean over seeds)", but the dots are single seeds.
        var label = plotted!.Title.Replace(" (mean over seeds)", "", StringComparison.Ordinal);
        var integerX = rows.All(r => Number(r.Coordinates[x]) is { } v && v == Math.Round(v));
        Charts.Lines(root, PlotFile, $"Sweep: {label} by {Words(x)}; line: mean over seeds, dots: each seed", Words(x), label, lines, 0, integerX: integerX);
    }

    /// <summary>A key as words: "model.hidden" → "hidden", "training.learningRate" → "learning rate".</summary>
    internal static string Words(string key) =>
        System.Text.RegularExpressions.Regex.Replace(key.Split('.')[^1], "(?<=[a-z0-9])([A-Z])", m => " " + m.Value.ToLowerInvariant());
}
