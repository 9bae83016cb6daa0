using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using HmmRnn.Analysis.HmmEmulation;
using HmmRnn.Core;
using HmmRnn.Core.HiddenMarkov;
using HmmRnn.Host.Output;
using HmmRnn.Host.Plots;
using HmmRnn.Host.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace HmmRnn.Host.Tasks.Hmm;

/// <summary>A trained RNN's sequences against its HMM (SPEC A4 and beyond): which checkpoint, and the metrics.</summary>
/// <param name="Hmm">The catalogue model.</param>
/// <param name="Checkpoint">The checkpoint file evaluated.</param>
/// <param name="Epoch">Its epoch.</param>
/// <param name="Metrics">Every metric and the verdicts.</param>
public sealed record EvaluationReport(string Hmm, string Checkpoint, int Epoch, EmulationMetrics Metrics)
{
    /// <summary>The report as Markdown.</summary>
    public string Markdown { get; init; } = "";
}

/// <summary>Generates from a trained RNN and measures it against its HMM (the measuring is <see cref="Emulation.Compare"/>).</summary>
public static class Evaluation
{
    /// <summary>Evaluates the best checkpoint of a run folder; writes evaluation.json, evaluation.md and PNGs there.</summary>
    public static EvaluationReport Run(RunFolder folder, int sequences, long seed)
    {
        var config = RunConfig.Read<HmmTrainingConfig>(folder);
        var device = RunConfig.DeviceOf(folder, config);
        var path = Trainer.CheckpointPath(folder, "best");
        var entry = config.Entry;
        var hmm = entry.Hmm;
        int T = entry.SequenceLength, V = hmm.Symbols;
        using var model = new HmmRnnModel(config.Hidden, config.Input, V);
        model.to(device);
        var meta = Checkpoint.LoadTrained(path, config, model);

        var rnn = Generate(model, sequences, T, config.Temperature, seed, device);
        // The HMM side: the run's held-out test split (as many sequences as generated, where it has
        // them; otherwise a fresh sample), and an independent sample for the HMM-vs-HMM baselines.
        var (rngA, rngB) = Rng.FromSeed(seed).Substream(7).Split();
        var test = TrainingData.TestSplit(config).Outputs;
        var hmmSample = test.Length >= sequences ? test.Take(sequences).ToArray() : [.. HmmSampling.Sample(hmm, sequences, T, rngA).Outputs];
        var hmmOther = HmmSampling.Sample(hmm, Emulation.MatchedSequences, T, rngB).Outputs;

        var bounded = MeasureBoundedness(model, Boundedness.DefaultRuns, T, Rng.FromSeed(seed).Substream(11).NextUInt64().Value >> 1, device);
        var report = new EvaluationReport(config.Hmm, Path.GetFileName(path), meta.Epoch, Emulation.Compare(hmm, rnn, hmmSample, hmmOther, boundedness: bounded));
        report = report with { Markdown = Markdown(report) };
        folder.WriteJson("evaluation.json", report);
        folder.WriteText("evaluation.md", report.Markdown);
        Plot(folder, report);
        return report;
    }

    /// <summary>Sequences of symbols from the RNN (hard Gumbel-softmax samples), in chunks, without gradients.</summary>
    public static ImmutableArray<int>[] Generate(HmmRnnModel model, int count, int length, double temperature, long seed, Device device,
        double noiseScale = 1)
    {
        using var _ = no_grad();
        using var generator = new Generator((ulong)Rng.FromSeed(seed).Substream(3).NextUInt64().Value >> 1, device);
        var result = new ImmutableArray<int>[count];
        for (int start = 0; start < count; start += 2048)
        {
            using var scope = NewDisposeScope();
            var n = Math.Min(2048, count - start);
            Symbols(model.Emit(n, length, temperature, generator, noiseScale)).CopyTo(result, start);
        }
        return result;
    }

    /// <summary>The symbols of one-hot emissions [count, length, O], one array a sequence.</summary>
    public static ImmutableArray<int>[] Symbols(Tensor samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        using var _ = NewDisposeScope();
        int count = (int)samples.shape[0], length = (int)samples.shape[1];
        var symbols = samples.argmax(-1).to(ScalarType.Int32).cpu().data<int>().ToArray();
        var result = new ImmutableArray<int>[count];
        for (int i = 0; i < count; i++) result[i] = ImmutableArray.Create(symbols, i * length, length);
        return result;
    }

    /// <summary>
    /// <paramref name="runs"/> noise-driven runs of <see cref="Boundedness.HorizonMultiple"/> × <paramref name="horizon"/> steps
    /// from h = 0 on the tensor model, judged by <see cref="Boundedness.FromNorms"/> (the same verdict as Analysis's
    /// array-based <see cref="Boundedness.Measure"/>, in a fraction of the time).
    /// </summary>
    public static BoundednessReport MeasureBoundedness(HmmRnnModel model, int runs, int horizon, ulong seed, Device device)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (runs < 1) throw new ArgumentOutOfRangeException(nameof(runs), runs, "must be ≥ 1");
        var steps = Boundedness.HorizonMultiple * horizon;
        using var _ = no_grad();
        using var generator = new Generator(seed, device);
        var peaks = new List<double>(runs);
        var within = new List<double>(runs * horizon);
        // Chunks of at most ~16 M state entries (64 MB of float32).
        var chunk = Math.Max(1, (int)Math.Min(runs, 16_000_000L / ((long)steps * model.Hidden)));
        for (int start = 0; start < runs; start += chunk)
        {
            using var scope = NewDisposeScope();
            var n = Math.Min(chunk, runs - start);
            // Norms in float64: an exploding run overflows float32's 3e38 long before it would overflow here.
            var norms = model.States(n, steps, generator).to(ScalarType.Float64).square().sum(-1).sqrt();
            var peak = norms.nan_to_num(double.PositiveInfinity, double.PositiveInfinity).amax([1]).cpu().data<double>().ToArray();
            peaks.AddRange(peak);
            within.AddRange(norms.narrow(1, 0, horizon).cpu().data<double>().ToArray());
        }
        return Boundedness.FromNorms(peaks, within, steps, horizon);
    }

    private static string Markdown(EvaluationReport report)
    {
        var r = report.Metrics;
        static string Yes(bool ok) => ok ? "**yes**" : "no";
        static string F(double x, int d = 4) => Format.Cell(x, d);
        static string V(double[] v) => "[" + string.Join(", ", v.Select(x => F(x, 3))) + "]";
        var sb = new StringBuilder();
        sb.AppendLine($"### {report.Hmm}: {report.Checkpoint} (epoch {report.Epoch}), {r.Sequences:N0} generated sequences");
        sb.AppendLine();
        sb.AppendLine("| metric | RNN | HMM | note |");
        sb.AppendLine("|---|---|---|---|");
        sb.AppendLine($"| transition-matrix squared error | {F(r.TransitionError, 5)} | {F(r.TransitionErrorHmmSample, 5)} (the HMM's test split) | paper's success, ≤ 0.01: {Yes(r.Verdicts.Transition)} |");
        sb.AppendLine($"| the same, rows weighted by P(symbol) | {F(r.WeightedTransitionError, 5)} | | pairs behind each row of the RNN's matrix: {string.Join(", ", r.RnnRowCounts.Select(c => c.ToString("N0", CultureInfo.InvariantCulture)))} |");
        sb.AppendLine($"| output frequencies | {V(r.RnnFrequencies)} | {V(r.ExactFrequencies)} (exact) | |");
        sb.AppendLine($"| P(o' = o), diagonal | {V(Enumerable.Range(0, r.RnnTransition.Length).Select(i => r.RnnTransition[i][i]).ToArray())} | {V(Enumerable.Range(0, r.ExactTransition.Length).Select(i => r.ExactTransition[i][i]).ToArray())} (exact) | |");
        sb.AppendLine($"| volatility P(o' ≠ o) | {F(r.RnnVolatility)} | {F(r.ExactVolatility)} (exact) | |");
        sb.AppendLine($"| Sinkhorn-matched distance to the test split | {F(r.MatchedDistance, 3)} | {F(r.MatchedDistanceHmmBaseline, 3)} (HMM vs HMM) | {r.MatchedSequences} sequences a side |");
        sb.AppendLine($"| mean dwell time per symbol | {V(r.RnnMeanDwell)} | {V(r.HmmMeanDwell)} (test split) | runs not touching a sequence end; each common symbol within 10%: {Yes(r.Verdicts.Dwell)} (largest deviation {F(r.DwellDeviation * 100, 1)}%) |");
        sb.AppendLine($"| P(o_(t+k) = o_t), k = 1, 5, 10, 20 | {V([r.RnnSameAtLag[0], r.RnnSameAtLag[4], r.RnnSameAtLag[9], r.RnnSameAtLag[19]])} | {V([r.ExactSameAtLag[0], r.ExactSameAtLag[4], r.ExactSameAtLag[9], r.ExactSameAtLag[19]])} (exact) | largest difference over k = 1 … 20: {F(r.LagError)} at k = {r.LagErrorAt}; within 0.02: {Yes(r.Verdicts.Lag)} |");
        sb.AppendLine($"| log-likelihood per step under the HMM | {F(r.RnnLogLikelihoodPerStep)} | {F(r.HmmLogLikelihoodPerStep)} (test split) | deviation {F(r.LogLikelihoodDeviation * 100, 1)}%, within 2%: {Yes(r.Verdicts.LogLikelihood)}; RNN sequences impossible under the HMM: {F(r.ImpossibleFraction, 4)} |");
        if (r.Boundedness is { } b)
            sb.AppendLine($"| peak ‖h‖ over {b.Runs:N0} noise-driven runs of {b.Steps} steps | {F(b.PeakNorm, 3)} ({F(b.PeakRatio, 3)} × the median) | median ‖h‖ within T = {b.Horizon}: {F(b.MedianNorm, 3)} | p99 of the runs' peaks {F(b.P99PeakNorm, 3)}; runs past {Boundedness.Limit:0} × the median: {F(b.ExplodedFraction * 100, 1)}%; bounded: {Yes(b.Bounded)} |");
        sb.AppendLine();
        sb.AppendLine($"**Faithful** (bounded, ≤ 0.01, lags within 0.02, dwell within 10%, likelihood within 2%): {Yes(r.Verdicts.Faithful)}");
        return sb.ToString();
    }

    private static void Plot(RunFolder folder, EvaluationReport report)
    {
        var r = report.Metrics;
        var name = report.Hmm;
        var rnnDwell = r.RnnDwellHistogram;
        var hmmDwell = r.HmmDwellHistogram;
        var rows = MetricsLog.ReadEpochs(folder);
        if (rows.Count > 0)
            Charts.Lines(folder, "loss.png", $"{name}: training loss by epoch (log scale)", "epoch", "loss (log scale)",
            [new Line("train", rows.Select(x => ((double)x.Epoch, x.TrainLoss)).ToArray()), new Line("validation (Sinkhorn divergence)", rows.Select(x => ((double)x.Epoch, x.ValidationLoss)).ToArray(), Dashed: true)],
            logY: true);
        TransitionFigure(folder, name, r.RnnTransition, r.ExactTransition);
        Charts.Lines(folder, "dwell.png", $"{name}: dwell times, runs of one symbol (RNN solid, HMM dashed)", "run length (steps)", "fraction of the symbol's runs (log scale)",
            Enumerable.Range(0, rnnDwell.Length).SelectMany(v => new[]
            {
                new Line($"RNN, symbol {v}", Normalised(rnnDwell[v]), Group: v),
                new Line($"HMM, symbol {v}", Normalised(hmmDwell[v]), Dashed: true, Group: v),
            }), logY: true);
        Charts.Lines(folder, "lag.png", $"{name}: P(o(t+k) = o(t)), the output repeated k steps later", "lag k (steps)", "probability",
        [
            new Line("RNN", r.RnnSameAtLag.Select((p, k) => (k + 1.0, p)).ToArray()),
            new Line("HMM (exact)", r.ExactSameAtLag.Select((p, k) => (k + 1.0, p)).ToArray(), Dashed: true),
        ], 0, 1);
    }

    /// <summary>
    /// transition.png: P(o_(t+1) | o_t) of the RNN's sequences, of the HMM (exact), and their difference, as three annotated
    /// heat maps (rows: output at t, columns: output at t+1); returns its path.
    /// </summary>
    internal static string TransitionFigure(RunFolder folder, string hmm, double[][] rnn, double[][] exact)
    {
        int V = exact.Length;
        if (V == 0 || rnn.Length != V || rnn.Concat(exact).Any(row => row.Length != V))
            throw new ArgumentException($"transition matrices must both be square and of one size (RNN {rnn.Length} rows, HMM {V})");
        double[,] Matrix(Func<int, int, double> at)
        {
            var m = new double[V, V];
            for (int i = 0; i < V; i++)
                for (int j = 0; j < V; j++) m[i, j] = at(i, j);
            return m;
        }
        var difference = Matrix((i, j) => rnn[i][j] - exact[i][j]);
        double largest = 0;
        foreach (var d in difference) largest = Math.Max(largest, Math.Abs(d));
        // Centred at 0 and out to ±0.05 at least, so that a good emulation's few thousandths stay pale rather than fill the scale.
        var scale = Math.Max(largest, 0.05);
        const string rows = "output at t", columns = "output at t+1";
        return Charts.Heatmaps(folder, "transition.png", $"{hmm}: output transition matrix P(output at t+1 | output at t)",
        [
            new HeatmapPanel("RNN (generated sequences)", Matrix((i, j) => rnn[i][j]), columns, rows)
                { Diverging = false, Range = (0, 1), CellFormat = "0.00", IndexTicks = true, ColourTitle = "probability" },
            new HeatmapPanel("HMM (exact)", Matrix((i, j) => exact[i][j]), columns, rows)
                { Diverging = false, Range = (0, 1), CellFormat = "0.00", IndexTicks = true, ColourTitle = "probability" },
            new HeatmapPanel("difference, RNN − HMM", difference, columns, rows)
                { Range = (-scale, scale), CellFormat = "+0.000;−0.000;0.000", IndexTicks = true, ColourTitle = "probability difference" },
        ]);
    }

    private static (double, double)[] Normalised(double[] histogram)
    {
        var total = histogram.Sum();
        return histogram.Select((c, l) => ((double)l, total > 0 ? c / total : double.NaN)).Skip(1).ToArray();
    }
}
