using System.Globalization;
using System.Text;
using System.Text.Json;
using HmmRnn.Analysis.HmmEmulation;
using HmmRnn.Host.Experiments;
using HmmRnn.Host.Output;
using HmmRnn.Host.Training;

namespace HmmRnn.Host.Tasks.Hmm;

/// <summary>
/// The part of an HMM experiment's report drawn from all its points (issue 19's atlas): the claims table — for each claim of
/// the abstract, in how many networks it holds, per architecture, faithful and unfaithful networks apart — each network's
/// verdicts linked to its section, and the dynamical similarity within and across architectures when <c>compare</c> has
/// written similarity.json into the experiment's folder.
/// </summary>
internal static class AtlasSection
{
    public static string? Compose(RunFolder experiment, IReadOnlyList<PointSummary> summaries, Func<string, string> anchor)
    {
        var scored = summaries.Where(s => s.Metrics.Keys.Any(k => k.StartsWith("claim", StringComparison.Ordinal))).ToList();
        if (scored.Count < 2) return null;
        var configs = scored.ToDictionary(s => s.Id, s => RunConfig.Read<HmmTrainingConfig>(RunFolder.Create(Path.Combine(experiment.Path, Pipeline.PointsFolder, s.Id))));
        // Networks of the most common size are named by their HMM alone, others with their size (no '|': it would split a table cell).
        var common = configs.Values.GroupBy(c => (c.Hidden, c.Input)).OrderByDescending(g => g.Count()).First().Key;
        string Group(PointSummary s) => configs[s.Id] is var c && (c.Hidden, c.Input) == common ? c.Hmm : $"{c.Hmm} ({c.Hidden} units, d = {c.Input})";
        var groups = scored.Select(Group).Distinct().ToList();
        bool Faithful(PointSummary s) => s.Metrics.GetValueOrDefault("faithful") == 1;

        var sb = new StringBuilder();
        sb.AppendLine("## The abstract's claims across the networks");
        sb.AppendLine();
        sb.AppendLine($"Each cell: the networks in which the claim holds / those scored, **faithful networks** first and unfaithful ones in parentheses " +
                      $"(faithful: bounded, transition error ≤ 0.01, lags within 0.02, dwell within 10%, likelihood within 2%). " +
                      $"{scored.Count(Faithful)} of {scored.Count} networks are faithful. Criteria (Analysis `ClaimCriteria`): " + Criteria() + ".");
        sb.AppendLine();
        sb.AppendLine("| claim | " + string.Join(" | ", groups) + " | all |");
        sb.AppendLine("|---|" + string.Concat(Enumerable.Repeat("---|", groups.Count + 1)));
        foreach (var (key, _, name) in ClaimVerdicts.Names)
        {
            string Cell(IEnumerable<PointSummary> rows)
            {
                var list = rows.Where(r => r.Metrics.ContainsKey(key)).ToList();
                string Count(IEnumerable<PointSummary> part) { var p = part.ToList(); return $"{p.Count(r => r.Metrics[key] == 1)}/{p.Count}"; }
                var faithful = list.Where(Faithful).ToList();
                var other = list.Where(r => !Faithful(r)).ToList();
                return (faithful.Count > 0 ? $"**{Count(faithful)}**" : "–") + (other.Count > 0 ? $" ({Count(other)})" : "");
            }
            sb.AppendLine($"| {name} | " + string.Join(" | ", groups.Select(g => Cell(scored.Where(s => Group(s) == g)))) + $" | {Cell(scored)} |");
        }
        sb.AppendLine();
        Similarity(sb, experiment);
        sb.AppendLine("### Each network's verdicts");
        sb.AppendLine();
        sb.AppendLine("| network | faithful | transition error | " + string.Join(" | ", ClaimVerdicts.Names.Select(n => n.Short)) + " |");
        sb.AppendLine("|---|---|---|" + string.Concat(Enumerable.Repeat("---|", ClaimVerdicts.Names.Length)));
        foreach (var s in scored)
        {
            string YesNo(string key) => s.Metrics.TryGetValue(key, out var v) ? (v == 1 ? "yes" : "no") : "–";
            sb.AppendLine($"| [{s.Id}]({anchor(s.Id)}) | {YesNo("faithful")} | {Format.Cell(s.Metrics.GetValueOrDefault("transitionError", double.NaN), 4)} | " +
                          string.Join(" | ", ClaimVerdicts.Names.Select(n => YesNo(n.Key))) + " |");
        }
        sb.AppendLine();
        return sb.ToString();
    }

    private static string Criteria()
    {
        var c = ClaimCriteria.Default;
        string F(double x) => x.ToString("0.##", CultureInfo.InvariantCulture);
        return $"collapse — every noise-free start reaches the origin, no fixed ray or 2-cycle, a bounded long run; orbit — collapse and an emission swing ≥ {F(c.MinModulation)} over the orbit's phase; " +
               $"rotation — ≥ {F(c.MinCirculation)} of steps turn one way; slow regions — ≥ {F(c.MinSlowShare)} of states in slow clusters of ≥ {c.MinSlowSymbols} symbols, and fast transitions at least as unstable as them; " +
               $"kick units — silencing them cuts switching by ≥ {F(c.MinEffect * 100)}% with p < {F(c.Alpha)} against 99 random sets; kick directions — the same for their span against 99 random subspaces, " +
               $"and more than twice the cut of the leading principal directions; resonance — the lowest transition error within ±{F(c.ResonanceBand * 100)}% of the trained σ";
    }

    private static string Floor(JsonElement root)
    {
        var values = root.GetProperty("networks").EnumerateArray().Select(n => n.GetProperty("selfDistance").GetDouble()).ToList();
        return values.Count == 0 ? "–" : values.Average().ToString("0.000", CultureInfo.InvariantCulture);
    }

    private static void Similarity(StringBuilder sb, RunFolder experiment)
    {
        var path = experiment.PathOf(SimilarityOutput.JsonFile);
        if (!File.Exists(path))
        {
            sb.AppendLine($"The sixth claim, *the same motif reused across architectures*, is scored by `hmmrnn compare {experiment.Path} --out {experiment.Path}` " +
                          "(dynamical similarity); its numbers appear here once similarity.json is in this folder.");
            sb.AppendLine();
            return;
        }
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var g = doc.RootElement.GetProperty("groups");
            string F(JsonElement e) => e.ValueKind == JsonValueKind.Number ? e.GetDouble().ToString("0.000", CultureInfo.InvariantCulture) : "–";
            sb.AppendLine("### The same motif reused? Dynamical similarity");
            sb.AppendLine();
            sb.AppendLine($"DSA distance (0: the same dynamics up to a rotation), from `compare`: mean **{F(g.GetProperty("meanWithin"))}** between networks of one architecture " +
                          $"({g.GetProperty("pairsWithin").GetInt32()} pairs) against **{F(g.GetProperty("meanAcross"))}** between architectures ({g.GetProperty("pairsAcross").GetInt32()} pairs). " +
                          "Within each: " + string.Join("; ", g.GetProperty("groups").EnumerateArray().Select(x => $"{x.GetProperty("group").GetString()} {F(x.GetProperty("meanWithin"))}")) + ". " +
                          $"The floor (each network refitted on independent noise, from itself): mean {Floor(doc.RootElement)}. " +
                          $"Full matrix: [{SimilarityOutput.MarkdownFile}]({SimilarityOutput.MarkdownFile}).");
            sb.AppendLine();
            sb.AppendLine($"![DSA distances between the networks (order as in {SimilarityOutput.MarkdownFile})]({SimilarityOutput.Figure})");
            sb.AppendLine();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            sb.AppendLine($"({SimilarityOutput.JsonFile} is not as `compare` writes it: {e.Message}; run compare again.)");
            sb.AppendLine();
        }
    }
}
