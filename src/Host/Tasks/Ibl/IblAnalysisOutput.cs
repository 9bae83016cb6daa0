using System.Globalization;
using System.Text;
using HmmRnn.Analysis.Dynamics;
using HmmRnn.Analysis.Ibl;
using HmmRnn.Core;
using HmmRnn.Core.Ibl;
using HmmRnn.Core.Rnn;
using HmmRnn.Host.Output;
using HmmRnn.Host.Plots;
using HmmRnn.Host.Training;

namespace HmmRnn.Host.Tasks.Ibl;

/// <summary>
/// <c>ibl analyze</c>'s effects: load a trained IBL network from its run folder, run
/// <see cref="IblNetworkAnalysis"/>, and write analysis.json, analysis.md and the figures (SPEC B4).
/// </summary>
public static class IblAnalysisOutput
{
    /// <summary>The paper's numbers (Schaeffer et al. 2020; SPEC B4), beside which ours are printed.</summary>
    private static class Paper
    {
        public const double Accuracy = 0.855, TopTwo = 0.887, ReadoutInPlane = 0.934, BlockFull = 0.826, BlockPlane = 0.825,
            AngleFull = 73, AnglePlane = 68, StimulusSlope = 0.84, BlockSlope = 0.18, Distilled = 0.8687, Network = 0.8550,
            ZeroConcordant = 0.735, ZeroDiscordant = 0.27;
        public static readonly double[] ByContrast = [0.64, 0.755, 0.85, 0.93, 0.95, 0.98];
        public static readonly double[,] A = { { 0.54, 0.31 }, { 0.19, 0.84 } };
        public static readonly double[,] B = { { -0.20, 0.20, 0.005 }, { -0.04, 0.04, 0.02 } };
    }

    /// <summary>
    /// The trained network of an IBL run at <paramref name="checkpoint"/>: "best" (the default; the last when
    /// there is no best), "last", or an epoch number kept by <c>--checkpoint-every</c>, and the task it plays.
    /// A distilled student (<c>ibl distill</c>) is opened the same way and plays its teacher's task.
    /// </summary>
    /// <exception cref="InvalidDataException">not an IBL run, or a damaged checkpoint; the message names the file.</exception>
    /// <exception cref="FileNotFoundException">no such checkpoint.</exception>
    public static (IblTaskConfig Task, TanhRnnWeights Weights, string Checkpoint, int Epoch) Load(RunFolder folder, string checkpoint = "best")
    {
        ArgumentNullException.ThrowIfNull(folder);
        var config = RunConfig.Read(folder);
        var (task, hidden) = config switch
        {
            IblTrainingConfig c => (c.Environment, c.Hidden),
            IblDistillConfig d when Directory.Exists(d.Teacher) => (RunConfig.Read<IblTrainingConfig>(RunFolder.Create(d.Teacher)).Environment, d.Hidden),
            IblDistillConfig d => throw new InvalidDataException($"{folder.Path}: its teacher {d.Teacher} is gone (the student plays the teacher's task)"),
            var other => throw new InvalidDataException($"{folder.Path} is a run of the {other.Task} task, not of the ibl task"),
        };
        var path = Trainer.CheckpointPath(folder, checkpoint);
        using var model = new IblRnnModel(hidden);
        var meta = Checkpoint.LoadTrained(path, config, model);
        return (task, model.Snapshot(), Path.GetFileName(path), meta.Epoch);
    }

    /// <summary>Analyses the run's network and writes every output into its folder; returns the report.</summary>
    public static IblNetworkReport Run(RunFolder folder, IblAnalysisOptions options, long seed, string which = "best", Action<string>? progress = null)
    {
        var (task, weights, checkpoint, epoch) = Load(folder, which);
        var report = IblNetworkAnalysis.Run(weights, task, Rng.FromSeed(seed), options, progress);
        progress?.Invoke("figures");
        Plot(folder, report, weights);
        folder.WriteJson("analysis.json", new { report.AccuracyTimeoutsWrong, checkpoint, epoch, seed, options, report });
        var markdown = Markdown(report, checkpoint, epoch, seed);
        var afterTitle = markdown.IndexOf("\n\n", StringComparison.Ordinal) + 2;
        folder.WriteText("analysis.md", markdown.Insert(afterTitle, WhichCheckpoint(MetricsLog.ReadEpochs(folder), epoch).TrimStart('\n') + "\n"));
        return report;
    }

    private static string F(double x, int digits = 3) => Format.Cell(x, digits);

    /// <summary>Every number beside the paper's.</summary>
    /// <summary>
    /// Which network the analysis opened and why: the epoch analysed against the training's validation accuracy (1 − the
    /// logged error rate) at that epoch, at its best and at the last epoch — a best checkpoint far from the last says that the
    /// network drifted after it.
    /// </summary>
    internal static string WhichCheckpoint(IReadOnlyList<EpochRow> epochs, int epoch)
    {
        if (epochs.Count == 0) return "";
        static string F(double x) => x.ToString("F3", CultureInfo.InvariantCulture);
        var at = epochs.FirstOrDefault(e => e.Epoch == epoch);
        var best = epochs.MaxBy(e => 1 - e.ValidationLoss)!;
        var last = epochs[^1];
        return $"\nThe network analysed is that of epoch {epoch}" + (at is null ? "" : $" (validation accuracy {F(1 - at.ValidationLoss)}, fixed validation sessions, time-outs wrong)") +
               $": the best checkpoint keeps the epoch of highest validation accuracy (best: epoch {best.Epoch}, {F(1 - best.ValidationLoss)}); " +
               $"the last epoch, {last.Epoch}, reached {F(1 - last.ValidationLoss)}." +
               (last.Epoch - epoch >= 5 && 1 - last.ValidationLoss < 1 - (at?.ValidationLoss ?? last.ValidationLoss) - 0.01
                   ? " Training went on past the best epoch and the network drifted to a lower accuracy: the later epochs are not analysed." : "") + "\n";
    }

    public static string Markdown(IblNetworkReport r, string checkpoint, int epoch, long seed)
    {
        var sb = new StringBuilder();
        var b = r.Behaviour;
        sb.AppendLine($"## IBL network: {checkpoint} (epoch {epoch}), analysis seed {seed}");
        sb.AppendLine();
        sb.AppendLine($"### Behaviour ({b.Network.Trials:N0} trials per agent; time-outs count as wrong, left out in brackets)");
        sb.AppendLine();
        var contrasts = b.Network.ByContrast.Select(c => c.Contrast).ToArray();
        sb.Append("| agent | ").Append(string.Join(" | ", contrasts.Select(c => $"μ = {c.ToString(CultureInfo.InvariantCulture)}")))
          .AppendLine(" | overall | time-outs | zero contrast conc. / disc. | mean steps |");
        sb.Append("|---|").Append(string.Concat(contrasts.Select(_ => "---|"))).AppendLine("---|---|---|---|");
        sb.AppendLine($"| paper's RNN | {string.Join(" | ", Paper.ByContrast.Select(x => F(x, 2)))} | {F(Paper.Accuracy)} | | {F(Paper.ZeroConcordant)} / {F(Paper.ZeroDiscordant, 2)} | |");
        foreach (var a in new[] { b.Network }.Concat(b.Agents).Append(b.Distilled))
            sb.AppendLine($"| {a.Agent} | {string.Join(" | ", a.ByContrast.Select(c => $"{F(c.AccuracyTimeoutsWrong)} ({F(c.AccuracyTimeoutsExcluded)})"))} | " +
                          $"{F(a.AccuracyTimeoutsWrong)} ({F(a.AccuracyTimeoutsExcluded)}) | {F(a.TimeoutRate)} | " +
                          $"{F(a.ByContrast[0].ConcordantAccuracy)} / {F(a.ByContrast[0].DiscordantAccuracy)} | {F(a.MeanObservationSteps, 2)} |");
        sb.AppendLine();
        sb.AppendLine($"The exact observer, on the network's own inputs and at its action times, is right on {F(b.Network.ObserverAccuracy)} of the trials.");
        sb.AppendLine();
        sb.AppendLine(IblFigures.FitTable([.. new[] { b.Network }.Concat(b.Agents).Append(b.Distilled)]));
        foreach (var figure in new[] { "psychometric.png", "psychometric-fit.png", "chronometric.png", "accuracy-by-contrast.png", "chronometric-concordance.png", "block-change.png", "training.png" })
            sb.AppendLine(Charts.Here(figure)).AppendLine();

        var p = r.Representation;
        sb.AppendLine($"### Representation ({p.States:N0} recorded states)");
        sb.AppendLine();
        sb.AppendLine("| quantity | ours | paper |");
        sb.AppendLine("|---|---|---|");
        sb.AppendLine($"| variance in PC1–PC2 | {F(p.TopTwoVariance)} | {F(Paper.TopTwo)} |");
        sb.AppendLine($"| stimulus readout inside the PC plane (norm fraction) | {F(p.StimulusReadoutInPlane)} | {F(Paper.ReadoutInPlane)} |");
        sb.AppendLine($"| block-side classifier, full state (held-out) | {F(p.BlockAccuracyFull)} | {F(Paper.BlockFull)} |");
        sb.AppendLine($"| block-side classifier, PC plane (held-out) | {F(p.BlockAccuracyPlane)} | {F(Paper.BlockPlane)} |");
        sb.AppendLine($"| angle stimulus vs block readout, full space | {F(p.ReadoutAngleFull, 1)}° | {Paper.AngleFull}° |");
        sb.AppendLine($"| angle, within the PC plane | {F(p.ReadoutAnglePlane, 1)}° | {Paper.AnglePlane}° |");
        sb.AppendLine($"| velocity along stimulus readout vs d = R − L (slope ± SE) | {F(p.StimulusVelocity.Slope)} ± {F(p.StimulusVelocity.SlopeStandardError)} | {F(Paper.StimulusSlope, 2)} |");
        sb.AppendLine($"| velocity along block readout vs d (slope ± SE) | {F(p.BlockVelocity.Slope)} ± {F(p.BlockVelocity.SlopeStandardError)} | {F(Paper.BlockSlope, 2)} |");
        sb.AppendLine($"| velocity along stimulus / block readout vs feedback | {F(p.StimulusFeedbackVelocity.Slope)} / {F(p.BlockFeedbackVelocity.Slope)} | |");
        sb.AppendLine($"| block readout vs the exact observer's 2·P(b = right) − 1: scale, R² | {F(p.BlockPosterior.Slope)}, {F(p.BlockPosterior.RSquared)} | \"up to a scale\" |");
        if (p.BlockBelief is { } bb)
            sb.AppendLine($"| the observer's P(b = right) decoded from h (later trials held out): R² from h / from the previous side / from both / shuffled | " +
                          $"{F(bb.RSquared)} / {F(bb.LastSymbolRSquared)} / {F(bb.JointRSquared)} / {F(bb.ShuffledRSquared)} | (beyond the paper; the HMM task's belief decoding) |");
        sb.AppendLine();
        sb.AppendLine($"Cumulative variance of PCs 1–10: {string.Join(", ", p.CumulativeVariance.Select(x => F(x)))}.");
        sb.AppendLine();
        sb.AppendLine(Charts.Here("pca.png")).AppendLine();

        sb.AppendLine("### Dynamics: fixed and slow points under constant inputs (flow-*.png)");
        sb.AppendLine();
        sb.AppendLine("| input (L, R, feedback) | fixed points: stable / marginal / unstable | slow points | largest \\|λ\\| at the fixed points | starts that found neither |");
        sb.AppendLine("|---|---|---|---|---|");
        foreach (var c in r.Dynamics)
        {
            var f = c.Points.Fixed;
            int Count(HmmRnn.Analysis.Dynamics.Stability s) => f.Count(x => x.Stability == s);
            sb.AppendLine($"| {c.Name} | {Count(HmmRnn.Analysis.Dynamics.Stability.Stable)} / {Count(HmmRnn.Analysis.Dynamics.Stability.Marginal)} / {Count(HmmRnn.Analysis.Dynamics.Stability.Unstable)} | " +
                          $"{c.Points.Slow.Length} | {string.Join(", ", f.Select(x => F(x.SpectralRadius)))} | {c.Points.Dropped} of {c.Points.Starts} |");
        }
        sb.AppendLine();

        sb.AppendLine(Charts.Here("flow-*.png")).AppendLine();

        var d = r.Radd;
        var m = d.Model;
        sb.AppendLine("### RADD (closed form; projection: unit stimulus and block readouts, centred states)");
        sb.AppendLine();
        sb.AppendLine("| | ours | paper |");
        sb.AppendLine("|---|---|---|");
        sb.AppendLine($"| A′ | [[{F(m.A(0, 0), 2)}, {F(m.A(0, 1), 2)}], [{F(m.A(1, 0), 2)}, {F(m.A(1, 1), 2)}]] | [[.54, .31], [.19, .84]] |");
        sb.AppendLine($"| B′ (L, R, r) | [[{F(m.B(0, 0))}, {F(m.B(0, 1))}, {F(m.B(0, 2))}], [{F(m.B(1, 0))}, {F(m.B(1, 1))}, {F(m.B(1, 2))}]] | [[−.20, .20, .005], [−.04, .04, .02]] |");
        sb.AppendLine($"| c′ | [{F(m.Bias[0])}, {F(m.Bias[1])}] | |");
        sb.AppendLine($"| κ; R² per unit | {F(m.Scale)}; {F(m.Fit.RSquared[0])}, {F(m.Fit.RSquared[1])} | |");
        sb.AppendLine($"| readout: logit difference = {F(d.ReadoutScale)} · z₁ + {F(d.ReadoutBias)} (R² {F(d.ReadoutFit.RSquared)}) | | scale fitted there too |");
        sb.AppendLine($"| accuracy, distilled vs network (time-outs wrong) | {F(d.AccuracyDistilled, 4)} vs {F(d.AccuracyNetwork, 4)} | {F(Paper.Distilled, 4)} vs {F(Paper.Network, 4)} |");
        sb.AppendLine();
        sb.AppendLine($"Free-running error ‖ẑ − z‖ after k steps (k = 1, 5, 10, 19), against a typical ‖z − mean‖ of {F(d.ErrorScale)}: " +
                      string.Join(", ", new[] { 1, 5, 10, 19 }.Where(k => k <= d.ErrorByLag.Length).Select(k => F(d.ErrorByLag[k - 1]))) + ".");
        sb.AppendLine();
        sb.AppendLine(Charts.Here("radd-error.png")).AppendLine();
        sb.AppendLine(Charts.Here("radd-flow.png")).AppendLine();

        var pools = r.Pools;
        sb.AppendLine("### Pools (correlation profiles, complete linkage, cut at 0.5 × max)");
        sb.AppendLine();
        sb.AppendLine($"{pools.Clusters.Count} pool(s) of sizes {string.Join(", ", Enumerable.Range(0, pools.Clusters.Count).Select(c => pools.Clusters.Labels.Count(l => l == c)))}" +
                      $"{(pools.Clusters.Silent.Length > 0 ? $", {pools.Clusters.Silent.Length} silent unit(s)" : "")}. Mean recurrent weight (row: to, column: from):");
        sb.AppendLine();
        foreach (var row in pools.MeanWeights) sb.AppendLine($"    [{string.Join(", ", row.Select(x => F(x, 4)))}]");
        sb.AppendLine();
        var others = pools.Clusters.Count - pools.Largest.Length;
        sb.AppendLine(pools.TwoOpposedPools
            ? $"The two largest pools are anti-correlated (r = {F(pools.PoolCorrelation)}), each exciting itself and inhibiting the other: the paper's motif" +
              (others > 0 ? $" ({others} smaller pool(s) besides)." : ".")
            : $"Not the paper's motif of two anti-correlated, self-exciting, mutually inhibiting pools{(double.IsNaN(pools.PoolCorrelation) ? "" : $" (largest pools' correlation {F(pools.PoolCorrelation)})")}.");
        sb.AppendLine().AppendLine(Charts.Here("pools.png"));
        return sb.ToString();
    }

    /// <summary>Trials' first steps averaged, with at least this many trials behind each step of a trajectory.</summary>
    private const int TrajectorySteps = 12, TrajectoryMinimumTrials = 10;

    /// <summary>
    /// The condition-averaged trajectories of the PCA figure: for each block side and stimulus side, the mean (PC1, PC2) at
    /// each step of a trial from its first, over the trials still running at that step (up to <see cref="TrajectorySteps"/>
    /// steps, while at least <see cref="TrajectoryMinimumTrials"/> trials remain). Colour: the block; solid: stimulus right.
    /// </summary>
    private static IEnumerable<Line> ConditionAverages(IEnumerable<(IblStep Step, double Pc1, double Pc2)> states)
    {
        var byCondition = states.Where(s => s.Step.StepInTrial < TrajectorySteps)
            .GroupBy(s => (s.Step.Trial.BlockSide, s.Step.Trial.StimulusSide));
        foreach (var condition in byCondition.OrderBy(g => g.Key.BlockSide).ThenBy(g => g.Key.StimulusSide))
        {
            var path = condition.GroupBy(s => s.Step.StepInTrial).OrderBy(g => g.Key)
                .TakeWhile((g, i) => g.Key == i && g.Count() >= TrajectoryMinimumTrials)
                .Select(g => (g.Average(s => s.Pc1), g.Average(s => s.Pc2))).ToArray();
            if (path.Length < 2) continue;
            var (block, stimulus) = condition.Key;
            yield return new Line($"{block.ToString().ToLowerInvariant()} block, stimulus {stimulus.ToString().ToLowerInvariant()}: mean", path,
                Dashed: stimulus == Side.Left, Group: block == Side.Left ? 0 : 1);
        }
    }

    private static void Plot(RunFolder folder, IblNetworkReport r, TanhRnnWeights w)
    {
        var b = r.Behaviour;
        var agents = new[] { b.Network }.Concat(b.Agents).Append(b.Distilled).ToArray();
        // Every agent by contrast; by block side, the network beside the paper's Bayesian actor (markov, the first of the agents).
        IblFigures.Behaviour(folder, agents, bySide: 2);
        Charts.Lines(folder, "block-change.png", "Network: accuracy after a block change (time-outs count as wrong)", "trials since the change", "fraction correct",
        [
            new Line("all contrasts", b.BlockChange.Select(p => ((double)p.TrialsSinceChange, p.All.Value(TimeoutPolicy.CountAsWrong))).ToArray()),
            new Line("zero contrast", b.BlockChange.Select(p => ((double)p.TrialsSinceChange, p.ZeroContrast.Value(TimeoutPolicy.CountAsWrong))).ToArray(), Dashed: true),
        ], 0, 1);

        var epochs = MetricsLog.ReadEpochs(folder);
        if (epochs.Count > 0)
            Charts.Lines(folder, "training.png", "Training: validation accuracy (time-outs wrong) against wall time", "training time (s)", "fraction correct",
            [
                new Line("network", epochs.Select(e => (e.ElapsedSeconds, 1 - e.ValidationLoss)).ToArray()),
                new Line("paper's RNN (85.5%)", [(0, Paper.Accuracy), (epochs[^1].ElapsedSeconds, Paper.Accuracy)], Dashed: true),
            ], 0.5, 1);

        var projected = r.Recorded.Select(s => (Step: s, Pc: r.Pca.Project(s.State))).ToArray();
        Charts.Scatter(folder, "pca.png",
            "PC1–PC2: states by block (dots); trial-averaged paths of the first steps (solid: stimulus right)",
            "PC1", "PC2",
        [
            new Points("left block", projected.Where(x => x.Step.Step.Trial.BlockSide == Side.Left).Select(x => (x.Pc[0], x.Pc[1])).ToArray(), 0),
            new Points("right block", projected.Where(x => x.Step.Step.Trial.BlockSide == Side.Right).Select(x => (x.Pc[0], x.Pc[1])).ToArray(), 1),
        ], [.. ConditionAverages(projected.Select(x => (x.Step.Step, x.Pc[0], x.Pc[1]))), .. ReadoutLines(r)]);

        for (int c = 0; c < r.Dynamics.Count; c++)
        {
            var condition = r.Dynamics[c];
            var flow = condition.Flow;
            var arrows = new List<Arrow>();
            for (int j = 0; j < flow.Along2.Count; j++)
                for (int i = 0; i < flow.Along1.Count; i++)
                {
                    int at = j * flow.Along1.Count + i;
                    if (flow.Mask[at]) arrows.Add(new Arrow(flow.Along1.Value(i), flow.Along2.Value(j), flow.Displacement1[at], flow.Displacement2[at]));
                }
            var points = condition.Points.Points.Zip(condition.Projected).ToArray();
            Points Marks(string title, Func<HmmRnn.Analysis.Dynamics.FixedPoint, bool> which, int group) =>
                new(title, points.Where(x => which(x.First)).Select(x => (x.Second.Z1, x.Second.Z2)).ToArray(), group);
            Charts.Flow(folder, $"flow-{c + 1}.png", $"One-step flow in PC1–PC2 under {condition.Name}, visited region only", "PC1", "PC2",
                arrows, flow.Along1.Spacing, flow.Along2.Spacing,
            [
                Marks("stable fixed point", p => p.Kind == HmmRnn.Analysis.Dynamics.FixedPointKind.Fixed && p.Stability != HmmRnn.Analysis.Dynamics.Stability.Unstable, 2),
                Marks("unstable fixed point", p => p.Kind == HmmRnn.Analysis.Dynamics.FixedPointKind.Fixed && p.Stability == HmmRnn.Analysis.Dynamics.Stability.Unstable, 3),
                Marks("slow point", p => p.Kind == HmmRnn.Analysis.Dynamics.FixedPointKind.Slow, 4),
            ], ReadoutLines(r));
        }

        var radd = r.Radd;
        RaddPortrait(folder, r);
        Charts.Lines(folder, "radd-error.png", "RADD: free-running error after k steps from the network's projected state", "steps k", "mean ‖ẑ − z‖",
        [
            new Line("distilled model", radd.ErrorByLag.Select((e, k) => (k + 1.0, e)).ToArray()),
            new Line("typical ‖z − mean z‖", radd.ErrorByLag.Select((_, k) => (k + 1.0, radd.ErrorScale)).ToArray(), Dashed: true),
        ], 0);

        var order = r.Pools.Clusters.Order;
        var reordered = new double[order.Length, order.Length];
        for (int i = 0; i < order.Length; i++)
            for (int j = 0; j < order.Length; j++) reordered[i, j] = w.W(order[i], order[j]);
        // The pools' first units in the reordered matrix, for the lines between them; beside it the pool means on their own
        // colour scale (±0.03 means vanish on the units' ±0.25 scale).
        var clusters = r.Pools.Clusters;
        var firsts = Enumerable.Range(0, clusters.Count).Select(c => order.TakeWhile(u => clusters.Labels[u] != c).Count()).ToArray();
        var k = r.Pools.MeanWeights.Length;
        var means = new double[k, k];
        for (int to = 0; to < k; to++)
            for (int from = 0; from < k; from++) means[to, from] = r.Pools.MeanWeights[to][from];
        Charts.Heatmaps(folder, "pools.png", $"Recurrent weights W_rec by pool: {clusters.Count} pool(s) of active units (row: to, column: from)",
        [
            new HeatmapPanel("units, grouped by pool (lines: pool boundaries)", reordered, "from unit (pool order)", "to unit (pool order)")
            { ColourTitle = "weight", Boundaries = firsts },
            new HeatmapPanel("mean weight between pools", means, "from pool", "to pool") { ColourTitle = "mean weight", CellFormat = "0.000", IndexTicks = true },
        ]);
    }

    /// <summary>The distilled 2-unit model's own phase portrait: its flow in the (z_stimulus, z_block) plane with no input, over the range the network's projected states cover.</summary>
    private static void RaddPortrait(RunFolder folder, IblNetworkReport r)
    {
        var model = r.Radd.Model;
        var plane = new HmmRnn.Analysis.Dynamics.StatePlane([0.0, 0.0], [1.0, 0.0], [0.0, 1.0]);
        var z = r.Recorded.Select(s => r.RaddCoordinates(s.State)).Select(c => (a: c[0], b: c[1])).ToArray();
        var along1 = HmmRnn.Analysis.Dynamics.GridAxis.Covering(z.Select(p => p.a), 15);
        var along2 = HmmRnn.Analysis.Dynamics.GridAxis.Covering(z.Select(p => p.b), 15);
        System.Collections.Immutable.ImmutableArray<double> none = [0.0, 0.0, 0.0];
        var flow = HmmRnn.Analysis.Dynamics.FlowField.Compute(h => [.. Radd.Step(model, [.. h], none)], plane, along1, along2);
        var arrows = new List<Arrow>();
        for (int j = 0; j < along2.Count; j++)
            for (int i = 0; i < along1.Count; i++)
            {
                int at = j * along1.Count + i;
                arrows.Add(new Arrow(along1.Value(i), along2.Value(j), flow.Displacement1[at], flow.Displacement2[at]));
            }
        Charts.Flow(folder, "radd-flow.png", "RADD's 2-unit model: one-step flow with no input (0, 0, 0)", "z along the stimulus readout", "z along the block readout",
            arrows, along1.Spacing, along2.Spacing, dots: [new Points("the network's states, projected", z, 0)]);
    }

    /// <summary>The two readouts drawn as lines through the PC plane's origin (their projections, scaled to the data).</summary>
    /// <summary>The readouts' palette entry: black.</summary>
    private const int ReadoutColour = 6;

    private static IEnumerable<Line> ReadoutLines(IblNetworkReport r)
    {
        var spread = Math.Sqrt(r.Pca.Variances[0]) * 2;
        // One look in every figure (PCA and each flow): black, the stimulus readout solid and the block readout dashed, clear of
        // the blocks' and the fixed points' colours.
        foreach (var (name, v, dashed) in new[] { ("stimulus readout", r.StimulusReadout, false), ("block readout", r.BlockReadout, true) })
        {
            double x = 0, y = 0;
            for (int i = 0; i < v.Length; i++) { x += v[i] * r.Pca.Components[0][i]; y += v[i] * r.Pca.Components[1][i]; }
            var len = Math.Sqrt(x * x + y * y);
            if (len == 0) continue;
            yield return new Line(name, [(-spread * x / len, -spread * y / len), (spread * x / len, spread * y / len)], Dashed: dashed, Group: ReadoutColour);
        }
    }
}
