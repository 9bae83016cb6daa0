using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using HmmRnn.Analysis;
using HmmRnn.Core;
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
        var path = Trainer.CheckpointPath(folder, "best");
        var entry = config.Entry;
        var hmm = entry.Hmm;
        int T = entry.SequenceLength, V = hmm.Symbols;
        var device = config.Device == "cuda" && cuda.is_available() ? CUDA : CPU;
        using var model = new HmmRnnModel(config.Hidden, config.Input, V);
        model.to(device);
        var meta = Checkpoint.Load(path, model, null);

        var rnn = Generate(model, sequences, T, config.Temperature, seed, device);
        // The HMM side: the run's held-out test split (as many sequences as generated, where it has
        // them; otherwise a fresh sample), and an independent sample for the HMM-vs-HMM baselines.
        var (rngA, rngB) = Rng.FromSeed(seed).Substream(7).Split();
        var test = TrainingData.TestSplit(config).Outputs;
        var hmmSample = test.Length >= sequences ? test.Take(sequences).ToArray() : [.. HmmSampling.Sample(hmm, sequences, T, rngA).Outputs];
        var hmmOther = HmmSampling.Sample(hmm, Emulation.MatchedSequences, T, rngB).Outputs;

        var report = new EvaluationReport(config.Hmm, Path.GetFileName(path), meta.Epoch, Emulation.Compare(hmm, rnn, hmmSample, hmmOther));
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
            var symbols = model.Emit(n, length, temperature, generator, noiseScale).argmax(-1).to(ScalarType.Int32).cpu().data<int>().ToArray();
            for (int i = 0; i < n; i++) result[start + i] = ImmutableArray.Create(symbols, i * length, length);
        }
        return result;
    }

    private static string Markdown(EvaluationReport report)
    {
        var r = report.Metrics;
        static string Yes(bool ok) => ok ? "**yes**" : "no";
        static string F(double x, int d = 4) => Cli.Format.Cell(x, d);
        static string V(double[] v) => "[" + string.Join(", ", v.Select(x => F(x, 3))) + "]";
        var sb = new StringBuilder();
        sb.AppendLine($"### {report.Hmm}: {report.Checkpoint} (epoch {report.Epoch}), {r.Sequences:N0} generated sequences");
        sb.AppendLine();
        sb.AppendLine("| metric | RNN | HMM | note |");
        sb.AppendLine("|---|---|---|---|");
        sb.AppendLine($"| transition-matrix squared error | {F(r.TransitionError, 5)} | {F(r.TransitionErrorHmmSample, 5)} (the HMM's test split) | paper's success, ≤ 0.01: {Yes(r.Verdicts.Transition)} |");
        sb.AppendLine($"| output frequencies | {V(r.RnnFrequencies)} | {V(r.ExactFrequencies)} (exact) | |");
        sb.AppendLine($"| P(o' = o), diagonal | {V(Enumerable.Range(0, r.RnnTransition.Length).Select(i => r.RnnTransition[i][i]).ToArray())} | {V(Enumerable.Range(0, r.ExactTransition.Length).Select(i => r.ExactTransition[i][i]).ToArray())} (exact) | |");
        sb.AppendLine($"| volatility P(o' ≠ o) | {F(r.RnnVolatility)} | {F(r.ExactVolatility)} (exact) | |");
        sb.AppendLine($"| Sinkhorn-matched distance to the test split | {F(r.MatchedDistance, 3)} | {F(r.MatchedDistanceHmmBaseline, 3)} (HMM vs HMM) | {r.MatchedSequences} sequences a side |");
        sb.AppendLine($"| mean dwell time per symbol | {V(r.RnnMeanDwell)} | {V(r.HmmMeanDwell)} (test split) | runs not touching a sequence end; each common symbol within 10%: {Yes(r.Verdicts.Dwell)} |");
        sb.AppendLine($"| P(o_(t+k) = o_t), k = 1, 5, 10, 20 | {V([r.RnnSameAtLag[0], r.RnnSameAtLag[4], r.RnnSameAtLag[9], r.RnnSameAtLag[19]])} | {V([r.ExactSameAtLag[0], r.ExactSameAtLag[4], r.ExactSameAtLag[9], r.ExactSameAtLag[19]])} (exact) | |");
        sb.AppendLine($"| log-likelihood per step under the HMM | {F(r.RnnLogLikelihoodPerStep)} | {F(r.HmmLogLikelihoodPerStep)} (test split) | within 2%: {Yes(r.Verdicts.LogLikelihood)}; RNN sequences impossible under the HMM: {F(r.ImpossibleFraction, 4)} |");
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
            Charts.Lines(folder, "loss.png", $"{name}: training loss (Sinkhorn divergence) by epoch", "epoch", "Sinkhorn divergence",
            [new Line("train", rows.Select(x => ((double)x.Epoch, x.TrainLoss)).ToArray()), new Line("validation", rows.Select(x => ((double)x.Epoch, x.ValidationLoss)).ToArray(), Dashed: true)]);
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
