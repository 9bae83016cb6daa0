using System.Globalization;
using System.Text;
using HmmRnn.Analysis.Dynamics;
using HmmRnn.Core;
using HmmRnn.Core.Rnn;
using HmmRnn.Host.Experiments;
using HmmRnn.Host.Output;
using HmmRnn.Host.Plots;
using HmmRnn.Host.Training;

namespace HmmRnn.Host.Tasks.Hmm;

/// <summary>One compared network: where it is, how the table names it, and its group (its HMM, and its size when not the quick preset's).</summary>
/// <param name="Path">The run folder.</param>
/// <param name="Label">"linear3 s0", "linear3 (150 units) s1".</param>
/// <param name="Group">"linear3", "linear3 (150 units)".</param>
/// <param name="Operator">Its DMD operator.</param>
/// <param name="SelfDistance">The distance between that operator and one fitted to the same network on independent noise: the floor under which distances are sampling error.</param>
public sealed record ComparedNetwork(string Path, string Label, string Group, DmdOperator Operator, double SelfDistance);

/// <summary>What similarity.json holds.</summary>
/// <param name="Options">The DSA sizes.</param>
/// <param name="Episodes">Noise-driven runs per network, each of its training length T.</param>
/// <param name="Seed">Seed of the noise and of the rotation search.</param>
/// <param name="Networks">The networks, in the matrix's order.</param>
/// <param name="Distances">The DSA distances, a symmetric matrix with a zero diagonal (rows as <paramref name="Networks"/>).</param>
/// <param name="Groups">Distances within each group and across groups.</param>
public sealed record SimilarityReport(DsaOptions Options, int Episodes, long Seed, IReadOnlyList<ComparedNetwork> Networks, double[][] Distances, SimilarityGroups Groups);

/// <summary>
/// <c>compare</c>'s effects: read HMM run folders (or an experiment's points), fit each network's DSA operator
/// (<see cref="DynamicalSimilarity"/>), and write similarity.json, similarity.md and similarity.png.
/// </summary>
public static class SimilarityOutput
{
    /// <summary>The files written.</summary>
    public const string JsonFile = "similarity.json", MarkdownFile = "similarity.md", Figure = "similarity.png";

    /// <summary>
    /// The run folders named: each a run (it has config.json and a best checkpoint) or an experiment's output (its points that
    /// have one, in point order).
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">a path that is not a folder, or holds no run.</exception>
    public static IReadOnlyList<string> Expand(IEnumerable<string> paths)
    {
        var runs = new List<string>();
        foreach (var path in paths ?? throw new ArgumentNullException(nameof(paths)))
        {
            if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"{path} is not a folder");
            if (File.Exists(System.IO.Path.Combine(path, Trainer.BestCheckpoint))) { runs.Add(path); continue; }
            if (File.Exists(System.IO.Path.Combine(path, Pipeline.ExperimentFile)))
            {
                var points = ExperimentRecord.Read(RunFolder.Create(path)).PointIds.Select(id => System.IO.Path.Combine(path, Pipeline.PointsFolder, id))
                    .Where(p => File.Exists(System.IO.Path.Combine(p, Trainer.BestCheckpoint))).ToList();
                if (points.Count == 0) throw new DirectoryNotFoundException($"{path}: an experiment without trained points");
                runs.AddRange(points);
                continue;
            }
            throw new DirectoryNotFoundException($"{path}: neither a run folder (no {Trainer.BestCheckpoint}) nor an experiment's output (no {Pipeline.ExperimentFile})");
        }
        return runs;
    }

    /// <summary>
    /// Fits every network, computes the distances and writes the files into the folder <paramref name="output"/> (created
    /// only once every run has been read and fitted: a bad run leaves nothing behind).
    /// </summary>
    /// <exception cref="InvalidDataException">a run that is not an HMM run, a damaged checkpoint, or a network whose activity diverges; the message names the run.</exception>
    /// <exception cref="IOException">the output folder cannot be created.</exception>
    public static SimilarityReport Run(IReadOnlyList<string> runs, string output, DsaOptions options, int episodes, long seed, Action<string> progress)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(progress);
        var rng = Rng.FromSeed(seed);
        var loaded = new List<(string Path, HmmTrainingConfig Config, ReluRnnWeights Weights)>();
        foreach (var path in runs)
        {
            var (config, model, weights, _, _) = HmmAnalysisOutput.Load(RunFolder.Create(path), "best");
            model.Dispose();
            loaded.Add((path, config, weights));
        }
        // Operators of one rank are compared; the smallest network's state dimension bounds the principal components.
        var smallest = loaded.Min(l => l.Config.Hidden);
        if (options.Components > smallest) options = options with { Components = smallest };
        if (options.Problem() is { } problem) throw new InvalidDataException($"the smallest network has |h| = {smallest}: {problem}");
        var networks = new ComparedNetwork[loaded.Count];
        int done = 0;
        Parallel.For(0, loaded.Count, i =>
        {
            var (path, config, weights) = loaded[i];
            var length = Math.Max(config.Entry.SequenceLength, options.Delays + 2);
            DmdOperator op, again;
            try
            {
                op = DynamicalSimilarity.FitNetwork(weights, length, episodes, options, rng.Substream(1_000 + i));
                again = DynamicalSimilarity.FitNetwork(weights, length, episodes, options, rng.Substream(100_000 + i));
            }
            catch (ArgumentException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
            var self = DynamicalSimilarity.Distance(op, again, rng.Substream(200_000 + i), options);
            // The quick preset's size unnamed, others named (without '|', which would split a Markdown table cell).
            var size = config.Hidden == 50 && config.Input == 10 ? "" : $" ({config.Hidden} units)";
            networks[i] = new ComparedNetwork(path, $"{config.Hmm}{size} s{config.Seed}", config.Hmm + size, op, self);
            progress($"fitted {Interlocked.Increment(ref done)}/{loaded.Count}: {networks[i].Label} (R² of the step {op.FitRSquared:F3}, variance kept {op.ExplainedVariance:F3}, refitted on other noise at {self:F3})");
        });
        progress($"{loaded.Count * (loaded.Count - 1) / 2} pairs: Procrustes over O({options.Rank}) from {options.Starts} starts");
        var d = DynamicalSimilarity.Distances([.. networks.Select(n => n.Operator)], rng.Substream(1), options);
        var groups = DynamicalSimilarity.Groups(d, [.. networks.Select(n => n.Group)]);
        int k = networks.Length;
        var report = new SimilarityReport(options, episodes, seed, networks,
            [.. Enumerable.Range(0, k).Select(i => Enumerable.Range(0, k).Select(j => d[i, j]).ToArray())], groups);
        var folder = RunFolder.Create(output);
        folder.WriteJson(JsonFile, report);
        folder.WriteText(MarkdownFile, Markdown(report));
        // Lines between groups when the networks come grouped (an experiment's points are).
        var starts = Enumerable.Range(1, k - 1).Where(i => networks[i].Group != networks[i - 1].Group).ToArray();
        Charts.Heatmaps(folder, Figure, "DSA distance (0: alike up to a rotation)",
        [
            new HeatmapPanel($"{k} networks (order as in similarity.md)", d, "network", "network")
            {
                Diverging = false, Range = (0, Enumerable.Range(0, k).SelectMany(i => Enumerable.Range(0, k).Select(j => d[i, j])).Max()),
                ColourTitle = "distance", IndexTicks = k <= 40, Boundaries = [.. starts],
            },
        ]);
        return report;
    }

    private static string Markdown(SimilarityReport r)
    {
        string F(double x) => double.IsNaN(x) ? "–" : x.ToString("0.000", CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        sb.AppendLine("# Dynamical similarity (DSA)");
        sb.AppendLine();
        sb.AppendLine($"Each network driven by noise from h = 0 ({r.Episodes} runs of its training length), its states reduced to {r.Options.Components} " +
                      $"principal components, delay-embedded ({r.Options.Delays} delays), a rank-{r.Options.Rank} DMD operator fitted; the distance is " +
                      $"min over orthogonal C of ‖A − C B Cᵀ‖_F (Ostrow et al. 2023). Seed {r.Seed}.");
        sb.AppendLine();
        sb.AppendLine("| group | networks | mean distance within |");
        sb.AppendLine("|---|---|---|");
        foreach (var g in r.Groups.Groups) sb.AppendLine($"| {g.Group} | {g.Members} | {F(g.MeanWithin)} |");
        sb.AppendLine();
        sb.AppendLine($"Mean distance within a group: **{F(r.Groups.MeanWithin)}** ({r.Groups.PairsWithin} pairs); across groups: **{F(r.Groups.MeanAcross)}** ({r.Groups.PairsAcross} pairs). " +
                      $"The floor: each network refitted on independent noise lies at a mean {F(r.Networks.Average(n => n.SelfDistance))} from itself (largest {F(r.Networks.Max(n => n.SelfDistance))}); distances near it are sampling error.");
        sb.AppendLine();
        sb.AppendLine("| # | network | R² of the step | largest \\|λ\\| | refitted | " + string.Join(" | ", Enumerable.Range(0, r.Networks.Count)) + " |");
        sb.AppendLine("|---|---|---|---|---|" + string.Concat(Enumerable.Repeat("---|", r.Networks.Count)));
        for (int i = 0; i < r.Networks.Count; i++)
        {
            var n = r.Networks[i];
            var top = n.Operator.Eigenvalues.Length == 0 ? double.NaN : n.Operator.Eigenvalues[0].Modulus;
            sb.AppendLine($"| {i} | {n.Label} | {F(n.Operator.FitRSquared)} | {F(top)} | {F(n.SelfDistance)} | " + string.Join(" | ", r.Distances[i].Select(F)) + " |");
        }
        return sb.ToString();
    }
}
