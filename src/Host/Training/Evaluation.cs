using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using HmmRnn.Analysis;
using HmmRnn.Core;
using HmmRnn.Host.Output;
using HmmRnn.Host.Plots;
using TorchSharp;
using static TorchSharp.torch;

namespace HmmRnn.Host.Training;

/// <summary>A trained RNN's sequences against its HMM (SPEC A4 and beyond).</summary>
public sealed record EvaluationReport(
    string Hmm, string Checkpoint, int Epoch, int Sequences,
    double TransitionError, double TransitionErrorHmmSample, bool Success,
    double[][] RnnTransition, double[][] ExactTransition,
    double[] RnnFrequencies, double[] ExactFrequencies,
    double RnnVolatility, double ExactVolatility,
    double MatchedDistance, double MatchedDistanceHmmBaseline, int MatchedSequences,
    double[] RnnMeanDwell, double[] HmmMeanDwell,
    double[] RnnSameAtLag, double[] ExactSameAtLag,
    double RnnLogLikelihoodPerStep, double HmmLogLikelihoodPerStep, double ImpossibleFraction)
{
    /// <summary>The paper's success criterion: transition-matrix squared error ≤ 0.01.</summary>
    public const double SuccessThreshold = 0.01;

    /// <summary>The report as Markdown.</summary>
    public string Markdown { get; init; } = "";
}

/// <summary>Generates from a trained RNN and measures it against its HMM.</summary>
public static class Evaluation
{
    private const int MatchedSequences = 1000, MaxLag = 20, MaxDwell = 60;

    /// <summary>Evaluates the best checkpoint of a run folder; writes evaluation.json, evaluation.md and PNGs there.</summary>
    public static EvaluationReport Run(RunFolder folder, int sequences, long seed)
    {
        var config = JsonSerializer.Deserialize<TrainingConfig>(File.ReadAllText(folder.PathOf("config.json")), RunFolder.Json)
            ?? throw new InvalidDataException($"{folder.PathOf("config.json")}: empty");
        var path = File.Exists(folder.PathOf(Trainer.BestCheckpoint)) ? folder.PathOf(Trainer.BestCheckpoint) : folder.PathOf(Trainer.LastCheckpoint);
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
        var hmmOther = HmmSampling.Sample(hmm, MatchedSequences, T, rngB).Outputs;

        var exact = HmmStatistics.Outputs(hmm);
        var rnnStats = EmpiricalStatistics.Outputs(rnn, V);
        var hmmStats = EmpiricalStatistics.Outputs(hmmSample, V);
        var error = EmpiricalStatistics.TransitionSquaredError(rnnStats.Transition, exact.Transition);
        var baselineError = EmpiricalStatistics.TransitionSquaredError(hmmStats.Transition, exact.Transition);

        var m = Math.Min(MatchedSequences, sequences);
        double[] Flat(IReadOnlyList<ImmutableArray<int>> s)
        {
            var x = new double[m * T * V];
            for (int n = 0; n < m; n++)
                for (int t = 0; t < T; t++) x[(n * T + t) * V + s[n][t]] = 1;
            return x;
        }
        var matched = Sinkhorn.Compute(Flat(rnn), Flat(hmmSample), T * V).MatchedDistance;
        var matchedBaseline = Sinkhorn.Compute(Flat(hmmOther), Flat(hmmSample), T * V).MatchedDistance;

        var rnnDwell = EmpiricalStatistics.DwellTimes(rnn, V, MaxDwell);
        var hmmDwell = EmpiricalStatistics.DwellTimes(hmmSample, V, MaxDwell);
        var rnnLl = Filtering.LogLikelihoods(hmm, rnn);
        var hmmLl = Filtering.LogLikelihoods(hmm, hmmSample);
        var impossible = rnnLl.Count(double.IsNegativeInfinity) / (double)sequences;

        var report = new EvaluationReport(config.Hmm, Path.GetFileName(path), meta.Epoch, sequences,
            error, baselineError, error <= EvaluationReport.SuccessThreshold,
            rnnStats.Transition.ToRows(), exact.Transition.ToRows(),
            rnnStats.Frequencies.AsSpan().ToArray(), exact.Frequencies.AsSpan().ToArray(),
            rnnStats.ChangeProbability, exact.ChangeProbability,
            matched, matchedBaseline, m,
            rnnDwell.Select(h => EmpiricalStatistics.MeanDwell(h)).ToArray(), hmmDwell.Select(h => EmpiricalStatistics.MeanDwell(h)).ToArray(),
            EmpiricalStatistics.SameOutputAtLag(rnn, MaxLag), HmmStatistics.SameOutputAtLag(hmm, MaxLag),
            rnnLl.Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average() / T, hmmLl.Average() / T, impossible);
        report = report with { Markdown = Markdown(report) };
        folder.WriteJson("evaluation.json", report);
        folder.WriteText("evaluation.md", report.Markdown);
        Plot(folder, report, rnnDwell, hmmDwell);
        return report;
    }

    /// <summary>Sequences of symbols from the RNN (hard Gumbel-softmax samples), in chunks, without gradients.</summary>
    public static ImmutableArray<int>[] Generate(HmmRnnModel model, int count, int length, double temperature, long seed, Device device)
    {
        using var _ = no_grad();
        using var generator = new Generator((ulong)Rng.FromSeed(seed).Substream(3).NextUInt64().Value >> 1, device);
        var result = new ImmutableArray<int>[count];
        for (int start = 0; start < count; start += 2048)
        {
            using var scope = NewDisposeScope();
            var n = Math.Min(2048, count - start);
            var symbols = model.Emit(n, length, temperature, generator).argmax(-1).to(ScalarType.Int32).cpu().data<int>().ToArray();
            for (int i = 0; i < n; i++) result[start + i] = ImmutableArray.Create(symbols, i * length, length);
        }
        return result;
    }

    private static string Markdown(EvaluationReport r)
    {
        static string F(double x, int d = 4) => double.IsNaN(x) ? "–" : x.ToString("F" + d, CultureInfo.InvariantCulture);
        static string V(double[] v) => "[" + string.Join(", ", v.Select(x => F(x, 3))) + "]";
        var sb = new StringBuilder();
        sb.AppendLine($"### {r.Hmm}: {r.Checkpoint} (epoch {r.Epoch}), {r.Sequences:N0} generated sequences");
        sb.AppendLine();
        sb.AppendLine("| metric | RNN | HMM | note |");
        sb.AppendLine("|---|---|---|---|");
        sb.AppendLine($"| transition-matrix squared error | {F(r.TransitionError, 5)} | {F(r.TransitionErrorHmmSample, 5)} (the HMM's test split) | success ≤ 0.01: {(r.Success ? "**yes**" : "no")} |");
        sb.AppendLine($"| output frequencies | {V(r.RnnFrequencies)} | {V(r.ExactFrequencies)} (exact) | |");
        sb.AppendLine($"| P(o' = o), diagonal | {V(Enumerable.Range(0, r.RnnTransition.Length).Select(i => r.RnnTransition[i][i]).ToArray())} | {V(Enumerable.Range(0, r.ExactTransition.Length).Select(i => r.ExactTransition[i][i]).ToArray())} (exact) | |");
        sb.AppendLine($"| volatility P(o' ≠ o) | {F(r.RnnVolatility)} | {F(r.ExactVolatility)} (exact) | |");
        sb.AppendLine($"| Sinkhorn-matched distance to the test split | {F(r.MatchedDistance, 3)} | {F(r.MatchedDistanceHmmBaseline, 3)} (HMM vs HMM) | {r.MatchedSequences} sequences a side |");
        sb.AppendLine($"| mean dwell time per symbol | {V(r.RnnMeanDwell)} | {V(r.HmmMeanDwell)} (test split) | runs not touching a sequence end |");
        sb.AppendLine($"| P(o_(t+k) = o_t), k = 1, 5, 10, 20 | {V([r.RnnSameAtLag[0], r.RnnSameAtLag[4], r.RnnSameAtLag[9], r.RnnSameAtLag[19]])} | {V([r.ExactSameAtLag[0], r.ExactSameAtLag[4], r.ExactSameAtLag[9], r.ExactSameAtLag[19]])} (exact) | |");
        sb.AppendLine($"| log-likelihood per step under the HMM | {F(r.RnnLogLikelihoodPerStep)} | {F(r.HmmLogLikelihoodPerStep)} (test split) | RNN sequences impossible under the HMM: {F(r.ImpossibleFraction, 4)} |");
        return sb.ToString();
    }

    private static void Plot(RunFolder folder, EvaluationReport r, double[][] rnnDwell, double[][] hmmDwell)
    {
        var metrics = folder.PathOf("metrics.csv");
        if (File.Exists(metrics))
        {
            var rows = File.ReadAllLines(metrics).Skip(1).Select(l => l.Split(',')).Where(c => c[0] == "epoch")
                .Select(c => (Epoch: double.Parse(c[1], CultureInfo.InvariantCulture), Train: double.Parse(c[3], CultureInfo.InvariantCulture), Val: double.Parse(c[4], CultureInfo.InvariantCulture))).ToArray();
            if (rows.Length > 0)
                Charts.Lines(folder, "loss.png", $"{r.Hmm}: Sinkhorn divergence", "epoch", "loss",
                [new Line("train", rows.Select(x => (x.Epoch, x.Train)).ToArray()), new Line("validation", rows.Select(x => (x.Epoch, x.Val)).ToArray(), Dashed: true)]);
        }
        Charts.Lines(folder, "transition.png", $"{r.Hmm}: P(next output | output), RNN (solid) vs exact (dashed)", "next output", "probability",
            Enumerable.Range(0, r.ExactTransition.Length).SelectMany(o => new[]
            {
                new Line($"RNN, after {o}", r.RnnTransition[o].Select((p, w) => ((double)w, p)).ToArray(), Group: o),
                new Line($"exact, after {o}", r.ExactTransition[o].Select((p, w) => ((double)w, p)).ToArray(), Dashed: true, Group: o),
            }), 0, 1);
        Charts.Lines(folder, "dwell.png", $"{r.Hmm}: dwell-time distributions, RNN (solid) vs HMM (dashed)", "run length", "fraction of runs",
            Enumerable.Range(0, rnnDwell.Length).SelectMany(v => new[]
            {
                new Line($"RNN, symbol {v}", Normalised(rnnDwell[v]), Group: v),
                new Line($"HMM, symbol {v}", Normalised(hmmDwell[v]), Dashed: true, Group: v),
            }), 0);
        Charts.Lines(folder, "lag.png", $"{r.Hmm}: P(o(t+k) = o(t))", "lag k", "probability",
        [
            new Line("RNN", r.RnnSameAtLag.Select((p, k) => (k + 1.0, p)).ToArray()),
            new Line("HMM (exact)", r.ExactSameAtLag.Select((p, k) => (k + 1.0, p)).ToArray(), Dashed: true),
        ], 0, 1);
    }

    private static (double, double)[] Normalised(double[] histogram)
    {
        var total = histogram.Sum();
        return histogram.Select((c, l) => ((double)l, total > 0 ? c / total : double.NaN)).Skip(1).ToArray();
    }
}
