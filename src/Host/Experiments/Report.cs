using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using HmmRnn.Host.Output;
using HmmRnn.Host.Plots;
using HmmRnn.Host.Tasks;
using HmmRnn.Host.Training;

namespace HmmRnn.Host.Experiments;

/// <summary>
/// <c>report</c>: one page per experiment (or per run folder) — report.md, and report.html rendered from it with every
/// figure embedded (no network needed). Tables and figures come from what the stages wrote: the resolved configuration,
/// each stage's Markdown under its title (<see cref="ITaskStage"/>), and each stage's PNGs in the order written.
/// </summary>
public static partial class Report
{
    /// <summary>The files written into the folder.</summary>
    public const string HtmlFile = "report.html", MarkdownFile = "report.md";

    /// <summary>Writes report.md and report.html into <paramref name="folder"/>: an experiment's output folder or a single run folder.</summary>
    /// <exception cref="InvalidDataException">the folder is neither.</exception>
    public static (string Html, string Markdown) Write(RunFolder folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var markdown = Compose(folder);
        var html = Html(markdown, folder.Path);
        folder.WriteText(MarkdownFile, markdown);
        folder.WriteText(HtmlFile, html);
        return (folder.PathOf(HtmlFile), folder.PathOf(MarkdownFile));
    }

    /// <summary>The report as Markdown, figures linked by relative path.</summary>
    public static string Compose(RunFolder folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var sb = new StringBuilder();
        var experimentPath = folder.PathOf(Pipeline.ExperimentFile);
        if (File.Exists(experimentPath))
        {
            var experiment = ExperimentRecord.Read(folder);
            sb.AppendLine($"# Experiment {experiment.Name}");
            sb.AppendLine();
            if (experiment.Description is { Length: > 0 } d) sb.AppendLine(d).AppendLine();
            var points = experiment.PointIds;
            var present = points.Where(id => Directory.Exists(Path.Combine(folder.Path, Pipeline.PointsFolder, id))).ToList();
            sb.AppendLine($"Task **{experiment.Task}**, preset **{experiment.Preset}**, {points.Count} point(s), {present.Count} run here.");
            sb.AppendLine();
            var summaries = SweepTable.Read(folder);
            if (summaries.Count > 0)
            {
                // The task's reading of all the points (the HMM atlas's claims table) first: the summary table below is its data.
                if (TaskRegistry.Find(experiment.Task)?.ExperimentSection(folder, summaries, Anchor) is { } section) sb.AppendLine(section);
                sb.AppendLine("## Summary");
                sb.AppendLine();
                sb.Append(SweepTable.Markdown(summaries));
                sb.AppendLine();
            }
            foreach (var id in present)
                Point(sb, RunFolder.Create(Path.Combine(folder.Path, Pipeline.PointsFolder, id)), $"{Pipeline.PointsFolder}/{id}/", id);
        }
        else if (File.Exists(folder.PathOf(RunConfig.FileName)))
        {
            sb.AppendLine($"# Run {Path.GetFileName(folder.Path)}");
            sb.AppendLine();
            Point(sb, folder, "", null);
        }
        else throw new InvalidDataException($"{folder.Path}: neither an experiment's output (no {Pipeline.ExperimentFile}) nor a run folder (no {RunConfig.FileName})");
        return sb.ToString();
    }

    private static void Point(StringBuilder sb, RunFolder folder, string prefix, string? id)
    {
        if (id is not null) sb.AppendLine($"## {id}").AppendLine();
        var config = RunConfig.Read(folder);
        sb.AppendLine($"**{config.Describe()}**").AppendLine();
        var shown = new HashSet<string>();
        var stages = Pipeline.ReadStages(folder);
        foreach (var stage in TaskRegistry.Of(config).Stages)
        {
            if (!File.Exists(folder.PathOf(stage.Markdown))) continue;
            sb.AppendLine($"### {stage.Title}").AppendLine();
            sb.AppendLine(PlaceFigures(Demote(File.ReadAllText(folder.PathOf(stage.Markdown)), 4), folder, prefix, shown)).AppendLine();
            var figures = stages.TryGetValue(stage.Name, out var record) && record.Figures is { } f ? f : stage.Figures;
            Figures(sb, folder, prefix, figures.Where(shown.Add));
        }
        var rest = Directory.GetFiles(folder.Path, "*.png").Select(Path.GetFileName).Order(StringComparer.Ordinal).Where(n => shown.Add(n!)).ToList();
        if (rest.Count > 0)
        {
            sb.AppendLine("### More figures").AppendLine();
            Figures(sb, folder, prefix, rest!);
        }
        sb.AppendLine("### Configuration").AppendLine();
        sb.AppendLine("| setting | value |").AppendLine("|---|---|");
        var json = JsonSerializer.SerializeToNode(config, RunFolder.Json)!.AsObject();
        foreach (var (key, value) in json)
            sb.AppendLine($"| {key} | {Cell(value)} |");
        sb.AppendLine();
    }

    private static string Cell(JsonNode? value) => value switch
    {
        null => "–",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => value.ToJsonString().Replace("|", "\\|", StringComparison.Ordinal),
    };

    private static void Figures(StringBuilder sb, RunFolder folder, string prefix, IEnumerable<string> names)
    {
        foreach (var name in names)
            if (File.Exists(folder.PathOf(name)))
                sb.AppendLine($"![{Caption(PngText.ReadTitle(folder.PathOf(name)) ?? Path.GetFileNameWithoutExtension(name))}]({prefix}{name})").AppendLine();
    }

    /// <summary>
    /// A stage's text with each <see cref="Charts.Here"/> marker replaced by the figures it names (a name or a pattern such as
    /// flow-*.png, in name order) that the folder holds and no earlier place showed: figures beside the text they belong to.
    /// Whatever no marker names follows the stage's text as before.
    /// </summary>
    private static string PlaceFigures(string markdown, RunFolder folder, string prefix, HashSet<string> shown) =>
        Charts.HereMarker().Replace(markdown, m =>
        {
            var pattern = m.Groups[1].Value;
            var names = pattern.Contains('*', StringComparison.Ordinal)
                ? Directory.GetFiles(folder.Path, pattern).Select(Path.GetFileName).Order(StringComparer.Ordinal).Cast<string>()
                : [pattern];
            var sb = new StringBuilder();
            Figures(sb, folder, prefix, names.Where(n => File.Exists(folder.PathOf(n)) && shown.Add(n)));
            return sb.ToString().TrimEnd('\n');
        });

    /// <summary>A figure's title as Markdown alt text: no brackets or line breaks that would end it.</summary>
    private static string Caption(string title) =>
        title.Replace('[', '(').Replace(']', ')').Replace('\n', ' ').Replace('\r', ' ');

    /// <summary>Shifts a Markdown fragment's headings so that its top level becomes <paramref name="level"/>.</summary>
    private static string Demote(string markdown, int level)
    {
        var lines = markdown.Replace("\r", "", StringComparison.Ordinal).Split('\n');
        var top = lines.Where(l => Heading().IsMatch(l)).Select(l => l.TakeWhile(c => c == '#').Count()).DefaultIfEmpty(level).Min();
        return string.Join('\n', lines.Select(l => Heading().IsMatch(l) ? new string('#', Math.Min(6, l.TakeWhile(c => c == '#').Count() - top + level)) + l.TrimStart('#') : l));
    }

    [GeneratedRegex(@"^#{1,6} ")]
    private static partial Regex Heading();

    /// <summary>
    /// Renders the report's Markdown (headings, paragraphs, lists, pipe tables, **bold**, `code`, images) as one
    /// well-formed, self-contained HTML page: images are read from <paramref name="baseFolder"/> and embedded as data URIs.
    /// </summary>
    public static string Html(string markdown, string baseFolder)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        var body = new StringBuilder();
        var lines = markdown.Replace("\r", "", StringComparison.Ordinal).Split('\n');
        string title = "HmmRnn report";
        var ids = new HashSet<string>(StringComparer.Ordinal); // heading anchors, for links into the page
        var contents = new List<(int Level, string Id, string Text)>(); // the table of contents: sections and their subsections
        for (int i = 0; i < lines.Length;)
        {
            var line = lines[i];
            if (line.Trim().Length == 0) { i++; continue; }
            if (Heading().IsMatch(line))
            {
                var level = line.TakeWhile(c => c == '#').Count();
                var text = line[level..].Trim();
                if (level == 1) title = text;
                var id = Slug().Replace(text.ToLowerInvariant(), "-").Trim('-');
                for (var n = 2; !ids.Add(id); n++) id = $"{Slug().Replace(text.ToLowerInvariant(), "-").Trim('-')}-{n}";
                body.Append(CultureInfo.InvariantCulture, $"<h{level} id=\"{id}\">{Inline(text)}</h{level}>\n");
                if (level is 2 or 3) contents.Add((level, id, Inline(text)));
                i++;
            }
            else if (Image().Match(line.Trim()) is { Success: true } m)
            {
                var path = Path.Combine(baseFolder, m.Groups[2].Value);
                var alt = WebUtility.HtmlEncode(m.Groups[1].Value);
                body.Append(File.Exists(path)
                    ? $"<figure><img alt=\"{alt}\" src=\"data:image/png;base64,{Convert.ToBase64String(File.ReadAllBytes(path))}\"/><figcaption>{alt}</figcaption></figure>\n"
                    : $"<p class=\"missing\">missing figure: {alt}</p>\n");
                i++;
            }
            else if (line.TrimStart().StartsWith('|'))
            {
                var rows = new List<string>();
                while (i < lines.Length && lines[i].TrimStart().StartsWith('|')) rows.Add(lines[i++].Trim());
                body.Append("<table>\n");
                for (int r = 0; r < rows.Count; r++)
                {
                    if (r == 1 && Separator().IsMatch(rows[r])) continue;
                    var tag = r == 0 ? "th" : "td";
                    body.Append("<tr>").Append(string.Concat(Cells(rows[r]).Select(c => $"<{tag}>{Inline(c)}</{tag}>"))).Append("</tr>\n");
                }
                body.Append("</table>\n");
            }
            else if (line.StartsWith("- ", StringComparison.Ordinal))
            {
                body.Append("<ul>\n");
                while (i < lines.Length && lines[i].StartsWith("- ", StringComparison.Ordinal))
                {
                    var item = new StringBuilder(lines[i++][2..]);
                    while (i < lines.Length && lines[i].StartsWith("  ", StringComparison.Ordinal) && lines[i].Trim().Length > 0) item.Append(' ').Append(lines[i++].Trim());
                    body.Append(CultureInfo.InvariantCulture, $"<li>{Inline(item.ToString())}</li>\n");
                }
                body.Append("</ul>\n");
            }
            else
            {
                var paragraph = new StringBuilder();
                while (i < lines.Length && lines[i].Trim().Length > 0 && !Heading().IsMatch(lines[i]) && !lines[i].TrimStart().StartsWith('|')
                       && !lines[i].StartsWith("- ", StringComparison.Ordinal) && !Image().IsMatch(lines[i].Trim()))
                    paragraph.Append(paragraph.Length > 0 ? " " : "").Append(lines[i++].Trim());
                body.Append(CultureInfo.InvariantCulture, $"<p>{Inline(paragraph.ToString())}</p>\n");
            }
        }
        var html = body.ToString();
        if (contents.Count > 1)
        {
            var toc = new StringBuilder("<nav class=\"toc\"><p><strong>Contents</strong></p>\n<ul>\n");
            foreach (var (level, id, text) in contents)
                toc.Append(CultureInfo.InvariantCulture, $"<li class=\"level{level}\"><a href=\"#{id}\">{text}</a></li>\n");
            toc.Append("</ul></nav>\n");
            var h1End = html.IndexOf("</h1>\n", StringComparison.Ordinal);
            html = h1End >= 0 ? html.Insert(h1End + 6, toc.ToString()) : toc + html;
        }
        return $"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8"/>
            <meta name="viewport" content="width=device-width, initial-scale=1"/>
            <title>{WebUtility.HtmlEncode(title)}</title>
            <style>
            body {"{"} font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; {"}"}
            table {"{"} border-collapse: collapse; margin: 1em 0; font-size: 0.9em; display: block; overflow-x: auto; {"}"}
            th, td {"{"} border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; {"}"}
            th {"{"} background: #f2f2f2; {"}"}
            figure {"{"} margin: 1em 0; {"}"} img {"{"} max-width: 100%; border: 1px solid #eee; {"}"}
            figcaption {"{"} color: #666; font-size: 0.85em; {"}"} code {"{"} background: #f5f5f5; padding: 0 0.2em; {"}"}
            nav.toc {"{"} background: #fafafa; border: 1px solid #e4e4e4; padding: 0.5em 1em; margin: 1em 0; font-size: 0.9em; {"}"}
            nav.toc ul {"{"} list-style: none; padding-left: 0; margin: 0; columns: 2; {"}"} nav.toc li.level3 {"{"} padding-left: 1.2em; {"}"}
            h2 {"{"} border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; {"}"} .missing {"{"} color: #a00; {"}"}
            </style>
            </head>
            <body>
            {html}</body>
            </html>

            """;
    }

    private static IEnumerable<string> Cells(string row)
    {
        // Split on pipes not escaped as \|.
        var cells = new List<string>();
        var current = new StringBuilder();
        var inner = row.Trim().Trim('|');
        for (int i = 0; i < inner.Length; i++)
        {
            if (inner[i] == '\\' && i + 1 < inner.Length && inner[i + 1] == '|') { current.Append('|'); i++; }
            else if (inner[i] == '|') { cells.Add(current.ToString().Trim()); current.Clear(); }
            else current.Append(inner[i]);
        }
        cells.Add(current.ToString().Trim());
        return cells;
    }

    private static string Inline(string text)
    {
        var encoded = WebUtility.HtmlEncode(text);
        encoded = Code().Replace(encoded, "<code>$1</code>");
        return Bold().Replace(encoded, "<strong>$1</strong>");
    }

    [GeneratedRegex(@"^!\[([^\]]*)\]\(([^)]+)\)$")]
    private static partial Regex Image();

    [GeneratedRegex(@"^\|[\s:|-]+\|$")]
    private static partial Regex Separator();

    /// <summary>The link target ("#…") of a heading's text in report.html (the first heading of that text).</summary>
    public static string Anchor(string heading) => "#" + Slug().Replace((heading ?? "").ToLowerInvariant(), "-").Trim('-');

    [GeneratedRegex(@"[^a-z0-9]+")]
    private static partial Regex Slug();

    [GeneratedRegex(@"`([^`]+)`")]
    private static partial Regex Code();

    [GeneratedRegex(@"\*\*([^*]+)\*\*")]
    private static partial Regex Bold();
}
