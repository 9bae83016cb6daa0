using System.Globalization;
using System.Text;
using HmmRnn.Analysis.Dynamics;
using HmmRnn.Core;
using HmmRnn.Core.Rnn;
using HmmRnn.Host.Output;
using HmmRnn.Host.Plots;
using HmmRnn.Host.Training;

namespace HmmRnn.Host.Tasks.FlipFlop;

/// <summary>The flip-flop analysis's effects: load the trained network, run <see cref="FlipFlopAnalysis"/>, write analysis.json, analysis.md and the figures.</summary>
public static class FlipFlopOutput
{
    /// <summary>A flip-flop run's network at a checkpoint ("best", "last" or an epoch kept), with its configuration.</summary>
    /// <exception cref="InvalidDataException">not a flip-flop run, or a damaged checkpoint.</exception>
    /// <exception cref="FileNotFoundException">no such checkpoint.</exception>
    public static (FlipFlopConfig Config, TanhRnnWeights Weights, string Checkpoint, int Epoch) Load(RunFolder folder, string which)
    {
        var config = RunConfig.Read<FlipFlopConfig>(folder);
        var path = Trainer.CheckpointPath(folder, which);
        using var model = new FlipFlopModel(config.Channels, config.Hidden);
        var meta = Checkpoint.LoadTrained(path, config, model);
        return (config, model.Snapshot(), Path.GetFileName(path), meta.Epoch);
    }

    /// <summary>Analyses the run's network and writes every output into its folder; returns the report.</summary>
    public static FlipFlopReport Run(RunFolder folder, FlipFlopAnalysisOptions options, long seed, string which = "best", Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var (config, weights, checkpoint, epoch) = Load(folder, which);
        progress?.Invoke($"{options.Sequences} sequences × {options.Length} steps, PCA, fixed points from {options.FixedPointStarts} visited states");
        var report = FlipFlopAnalysis.Run(weights, config.PulseProbability, options, Rng.FromSeed(seed));
        progress?.Invoke("figures");
        Plot(folder, report);
        folder.WriteJson("analysis.json", new
        {
            report.StableFixedPoints, report.Saddles, report.OtherUnstable, report.MemoryStates,
            slowPoints = report.Points.Count(p => p.Point.Kind == FixedPointKind.Slow), report.OutputAccuracy, checkpoint, epoch, seed, options,
            pca = new { report.Pca.Variances, explained = report.Pca.ExplainedFraction },
            fixedPoints = report.Points.Select(p => new
            {
                kind = p.Point.Kind, stability = p.Point.Stability, p.UnstableDimensions, p.Memory, p.Point.SpectralRadius, q = p.Point.Q, p.Point.Starts, pcs = p.Pcs,
            }),
            report.Starts,
        });
        folder.WriteText("analysis.md", Markdown(config, report, checkpoint, epoch, seed));
        return report;
    }

    private static string F(double x, int digits = 3) => x.ToString("F" + digits, CultureInfo.InvariantCulture);

    /// <summary>The report as Markdown.</summary>
    public static string Markdown(FlipFlopConfig config, FlipFlopReport r, string checkpoint, int epoch, long seed)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(r);
        var sb = new StringBuilder();
        sb.AppendLine($"# The {config.Channels}-bit flip-flop network opened up ({checkpoint}, epoch {epoch}, seed {seed})").AppendLine();
        sb.AppendLine($"Outputs with the target's sign: **{F(r.OutputAccuracy, 4)}** on fresh sequences. " +
                      $"With no input the network has **{r.StableFixedPoints} stable fixed points** (expected {1 << config.Channels}: one per memory state; " +
                      $"{r.MemoryStates} distinct readout sign patterns among them), **{r.Saddles} saddles** (one unstable direction: the boundaries between " +
                      $"memory states) and {r.OtherUnstable} other unstable fixed points, from {r.Starts} starts (Sussillo and Barak 2013).").AppendLine();
        sb.AppendLine($"PCA of the visited states: the first three components explain {string.Join(", ", r.Pca.ExplainedFraction.Take(3).Select(x => F(x)))} of the variance.").AppendLine();
        sb.AppendLine("| kind | stability | unstable directions | readout signs | spectral radius | PC1 | PC2 | PC3 |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var p in r.Points)
            sb.AppendLine($"| {p.Point.Kind.ToString().ToLowerInvariant()} | {p.Point.Stability.ToString().ToLowerInvariant()} | {p.UnstableDimensions} | {p.Memory} | " +
                          $"{F(p.Point.SpectralRadius)} | {string.Join(" | ", Enumerable.Range(0, 3).Select(k => k < p.Pcs.Length ? F(p.Pcs[k]) : "–"))} |");
        return sb.ToString();
    }

    private static void Plot(RunFolder folder, FlipFlopReport r)
    {
        var plane = r.Flow.Plane;
        (double, double) At(FlipFlopFixedPoint p) { var z = plane.Project(p.Point.State.AsSpan()); return (z.Z1, z.Z2); }
        Points Marks(string title, Func<FlipFlopFixedPoint, bool> which, int group) => new(title, [.. r.Points.Where(which).Select(At)], group);
        Points[] marks =
        [
            Marks("stable fixed point", p => p.Point.Kind == FixedPointKind.Fixed && p.Point.Stability == Stability.Stable, 2),
            Marks("saddle", p => p.Point.Kind == FixedPointKind.Fixed && p.Point.Stability == Stability.Unstable && p.UnstableDimensions == 1, 3),
            Marks("other unstable", p => p.Point.Kind == FixedPointKind.Fixed && p.Point.Stability == Stability.Unstable && p.UnstableDimensions > 1, 4),
        ];
        Charts.Scatter(folder, "pca.png", "Visited states in PC1–PC2, and the fixed points with no input", "PC1", "PC2",
            [new Points("visited states", [.. r.Visited.Select(p => (p.Z1, p.Z2))], 0), .. marks.Where(m => m.At.Count > 0)]);
        var flow = r.Flow;
        var arrows = new List<Arrow>();
        for (int j = 0; j < flow.Along2.Count; j++)
            for (int i = 0; i < flow.Along1.Count; i++)
            {
                int at = j * flow.Along1.Count + i;
                if (flow.Mask[at]) arrows.Add(new Arrow(flow.Along1.Value(i), flow.Along2.Value(j), flow.Displacement1[at], flow.Displacement2[at]));
            }
        Charts.Flow(folder, "flow.png", "One-step flow in PC1–PC2 with no input, visited region only", "PC1", "PC2", arrows,
            flow.Along1.Spacing, flow.Along2.Spacing, marks);
    }
}
