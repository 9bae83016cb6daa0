using System.Collections.Immutable;
using HmmRnn.Analysis.HmmEmulation;
using HmmRnn.Analysis.Numerics;
using HmmRnn.Core;
using HmmRnn.Core.Rnn;
using HmmRnn.Testing;
using HmmRnn.Host.Output;
using HmmRnn.Host.Tasks.Hmm;
using HmmRnn.Host.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace HmmRnn.Host.Tests;

/// <summary>
/// The training levers against faithful emulation (issue 24), each against an independent computation: the lagged pair
/// terms against hand counts of the emitted symbols, the activity penalty against Core's reference dynamics, the rollout's
/// Sinkhorn term on the first T steps, and the tensor boundedness check against Analysis's array one.
/// </summary>
[Collection("torch")]
public class FaithfulTrainingTests : TempFolderTest
{
    private const int N = 64, T = 30, Rollout = 45, V = 3;

    private static HmmTrainingConfig Config => HmmTrainingConfig.Preset("quick", "linear3") with
    {
        Hidden = 8, Input = 3, Batch = N, TrainSequences = N, ValidationSequences = N, TestSequences = 0, PairWeight = 0, ActivityWeight = 0, Rollout = Rollout, StartPairs = null, NGrams = null, RunLengths = null, WarmupSteps = null, TransitionWeight = null,
    };

    /// <summary>Fixed one-hot targets [N, T·V] and three lag targets that are valid joint distributions but not the network's.</summary>
    private static (Tensor Target, Tensor[] Pairs) Targets()
    {
        var rng = Rng.FromSeed(2);
        var onehot = new float[N * T * V];
        for (int i = 0; i < N * T; i++) { (var v, rng) = rng.NextInt(V); onehot[i * V + v] = 1; }
        var pairs = Enumerable.Range(1, 3).Select(k =>
        {
            var p = Enumerable.Range(0, V * V).Select(i => 1.0f + 0.3f * ((i * k) % 4)).ToArray();
            var total = p.Sum();
            return tensor(p.Select(x => x / total).ToArray(), [V, V]);
        }).ToArray();
        return (tensor(onehot, [N, T * V]), pairs);
    }

    /// <summary>Position targets for the first 4 positions: the lag targets' first entry reused, each a valid joint distribution.</summary>
    private static Tensor ByPosition(Tensor[] pairs) => stack([pairs[0], pairs[1], pairs[2], pairs[0]]);

    /// <summary>The symbols the loss saw: the same generator seed gives Emit the loss's noise and Gumbel draws, [N · Rollout].</summary>
    private static int[] EmittedSymbols(HmmRnnModel model)
    {
        using var generator = new Generator(11);
        return model.Emit(N, Rollout, 1, generator).argmax(-1).to(ScalarType.Int32).data<int>().ToArray();
    }

    private static double LossOf(HmmRnnModel model, HmmTrainingConfig config, Tensor target, Tensor[] pairs)
    {
        using var _ = no_grad();
        using var generator = new Generator(11);
        return HmmTask.Loss(model, target, T, generator, SinkhornOptions.Paper, config, new PairTargets(stack(pairs), ByPosition(pairs))).ToDouble();
    }

    [Fact]
    public void Lagged_pair_terms_are_the_chi_square_of_hand_counted_pairs_over_the_whole_rollout()
    {
        // The same generator gives the loss and Emit the same noise and Gumbel draws, so the symbols counted here are the ones
        // the loss saw. Expected difference: weight · Σ_k Σ_ij (J^k_ij − K^k_ij)² / K^k_ij with J^k counted over all 45 steps.
        // Bugs caught: the lag ignored (every term at lag 1), pairs counted over the first T steps only, a lag left out.
        manual_seed(3);
        using var model = new HmmRnnModel(8, 3, V, recurrentIdentity: 0.5);
        var (target, pairs) = Targets();
        var plain = LossOf(model, Config, target, pairs);
        var weighted = LossOf(model, Config with { PairWeight = 2, PairLags = 3 }, target, pairs);
        var symbols = EmittedSymbols(model);
        double expected = 0;
        for (int k = 1; k <= 3; k++)
        {
            var counts = new double[V * V];
            for (int n = 0; n < N; n++)
                for (int t = 0; t + k < Rollout; t++) counts[symbols[n * Rollout + t] * V + symbols[n * Rollout + t + k]]++;
            var K = pairs[k - 1].data<float>().ToArray();
            for (int i = 0; i < V * V; i++)
            {
                var j = counts[i] / (N * (Rollout - k));
                expected += 2 * (j - K[i]) * (j - K[i]) / K[i];
            }
        }
        Assert.True(expected > 0.01, $"the lag targets should differ from the network's pairs: {expected}");
        Assert.Equal(expected, weighted - plain, Math.Max(1e-4, 1e-4 * expected));
    }

    [Fact]
    public void Start_pair_terms_are_the_chi_square_of_hand_counted_pairs_at_each_of_the_first_positions()
    {
        // Expected difference: weight · Σ_{t < 4} Σ_ij (J_t,ij − K_t,ij)² / K_t,ij with J_t counted over the N sequences at
        // position t alone. Bugs caught: the positions pooled (one χ² of the mean), an off-by-one position (t + 1 against t + 2).
        manual_seed(6);
        using var model = new HmmRnnModel(8, 3, V, recurrentIdentity: 0.5);
        var (target, pairs) = Targets();
        var plain = LossOf(model, Config with { PairWeight = 2, PairLags = 1 }, target, pairs);
        var start = LossOf(model, Config with { PairWeight = 2, PairLags = 1, StartPairs = 4 }, target, pairs);
        var symbols = EmittedSymbols(model);
        var K = ByPosition(pairs).data<float>().ToArray();
        double expected = 0;
        for (int t = 0; t < 4; t++)
        {
            var counts = new double[V * V];
            for (int n = 0; n < N; n++) counts[symbols[n * Rollout + t] * V + symbols[n * Rollout + t + 1]]++;
            for (int i = 0; i < V * V; i++)
            {
                var k = K[t * V * V + i];
                expected += 2 * (counts[i] / N - k) * (counts[i] / N - k) / k;
            }
        }
        Assert.True(expected > 0.01, $"{expected}");
        Assert.Equal(expected, start - plain, Math.Max(1e-4, 1e-4 * expected));
    }

    [Fact]
    public void NGram_frequencies_by_hand()
    {
        // Trigrams of 0 1 2 2 and 2 2 2 1 (two windows each): (0,1,2), (1,2,2), (2,2,2), (2,2,1): ¼ each. Index i·9 + j·3 + k.
        // Bugs caught: windows shifted by one, the outer product's axes swapped (the order reversed: (2,1,0) in place of (0,1,2)).
        int[][] sequences = [[0, 1, 2, 2], [2, 2, 2, 1]];
        var onehot = new float[2 * 4 * 3];
        for (int b = 0; b < 2; b++)
            for (int t = 0; t < 4; t++) onehot[(b * 4 + t) * 3 + sequences[b][t]] = 1;
        var grams = HmmTask.NGramFrequencies(tensor(onehot, [2, 4, 3]), 3).data<float>().ToArray();
        var expected = new float[27];
        foreach (var (i, j, k) in new[] { (0, 1, 2), (1, 2, 2), (2, 2, 2), (2, 2, 1) }) expected[i * 9 + j * 3 + k] = 0.25f;
        Assert.Equal(expected, grams);
        // n = 2 is the pooled pair frequency of lag 1.
        Assert.Equal(HmmTask.PairFrequenciesUpTo(tensor(onehot, [2, 4, 3]), 1).data<float>().ToArray(), HmmTask.NGramFrequencies(tensor(onehot, [2, 4, 3]), 2).data<float>().ToArray());
    }

    [Fact]
    public void Run_length_frequencies_by_hand()
    {
        // 0 0 1 1 1 0 and 1 1 1 1 0 0, runs that start at t ≥ 1 (the step before is another symbol) and last ≥ L steps, over the
        // windows t = 1 … T − L (5, 4, 3 a sequence for L = 1, 2, 3):
        //   L = 1: the 1-run at t = 2 and the 0-runs at t = 5 and t = 4 → (a = 0, 1) = (2/10, 1/10);
        //   L = 2: the 1-run at t = 2 and the 0-run at t = 4 (t = 5 has no room) → (1/8, 1/8);
        //   L = 3: the 1-run at t = 2 only (the second sequence's 1-run starts at t = 0, before any window) → (0, 1/6).
        // Bugs caught: a run counted where the step before is the same symbol (1 1 1 1 would count at t = 1, 2, 3), the survival
        // product shifted by a step, windows normalised by T in place of T − L.
        int[][] sequences = [[0, 0, 1, 1, 1, 0], [1, 1, 1, 1, 0, 0]];
        var onehot = new float[2 * 6 * 2];
        for (int b = 0; b < 2; b++)
            for (int t = 0; t < 6; t++) onehot[(b * 6 + t) * 2 + sequences[b][t]] = 1;
        var runs = HmmTask.RunLengthFrequencies(tensor(onehot, [2, 6, 2]), 3).data<float>().ToArray();
        Assert.Equal(new[] { 0.2f, 0.1f, 0.125f, 0.125f, 0f, 1f / 6 }, runs, (a, b) => Math.Abs(a - b) < 1e-6);
    }

    [Fact]
    public void Run_length_terms_are_the_triangular_discrimination_of_hand_counted_runs_over_the_rollout()
    {
        // The term against a flat target K = 0.01 at every (L, a), L = 1 … 5, from the symbols the loss saw (counted in plain
        // integers here): the loss with the term minus without it is the pair weight 2 times Σ (J − K)² / (J + K).
        // Bugs caught: the term over the first T steps only (not the rollout), the targets' lengths misaligned with the
        // generated ones, the term left out of the loss.
        manual_seed(6);
        const int lengths = 5;
        using var model = new HmmRnnModel(8, 3, V, recurrentIdentity: 0.5);
        var (target, pairs) = Targets();
        var flat = full(lengths, V, 0.01f);
        using var _ = no_grad();
        double LossWith(HmmTrainingConfig config)
        {
            using var generator = new Generator(11);
            return HmmTask.Loss(model, target, T, generator, SinkhornOptions.Paper, config, new PairTargets(stack(pairs), null) { RunLengths = flat }).ToDouble();
        }
        var plain = LossWith(Config with { PairWeight = 2, PairLags = 1 });
        var withRuns = LossWith(Config with { PairWeight = 2, PairLags = 1, RunLengths = lengths });
        var symbols = EmittedSymbols(model);
        double expected = 0;
        for (int length = 1; length <= lengths; length++)
            for (int a = 0; a < V; a++)
            {
                int count = 0;
                for (int n = 0; n < N; n++)
                    for (int t = 1; t + length <= Rollout; t++)
                    {
                        bool run = symbols[n * Rollout + t - 1] != a;
                        for (int s = t; s < t + length && run; s++) run = symbols[n * Rollout + s] == a;
                        if (run) count++;
                    }
                var j = count / (double)(N * (Rollout - length));
                expected += 2 * (j - 0.01) * (j - 0.01) / (j + 0.01);
            }
        Assert.True(expected > 0.01, $"{expected}");
        Assert.Equal(expected, withRuns - plain, Math.Max(1e-4, 1e-4 * expected));
    }

    [Fact]
    public void NGram_terms_are_the_triangular_discrimination_of_hand_counted_trigrams_over_the_rollout()
    {
        // Expected difference: weight · Σ_ijk (J_ijk − K_ijk)² / (J_ijk + K_ijk), J counted over all 45-step windows, against a
        // uniform trigram target K = 1/27. Bugs caught: χ² in place of the triangular form, windows over the first T steps only.
        manual_seed(7);
        using var model = new HmmRnnModel(8, 3, V, recurrentIdentity: 0.5);
        var (target, pairs) = Targets();
        var uniform = full(27, 1f / 27);
        using var _ = no_grad();
        double LossWith(HmmTrainingConfig config)
        {
            using var generator = new Generator(11);
            return HmmTask.Loss(model, target, T, generator, SinkhornOptions.Paper, config, new PairTargets(stack(pairs), null) { ByOrder = [uniform] }).ToDouble();
        }
        var plain = LossWith(Config with { PairWeight = 2, PairLags = 1 });
        var grams = LossWith(Config with { PairWeight = 2, PairLags = 1, NGrams = 3 });
        var symbols = EmittedSymbols(model);
        var counts = new double[27];
        for (int n = 0; n < N; n++)
            for (int t = 0; t + 2 < Rollout; t++)
                counts[symbols[n * Rollout + t] * 9 + symbols[n * Rollout + t + 1] * 3 + symbols[n * Rollout + t + 2]]++;
        double expected = 0;
        foreach (var c in counts)
        {
            var j = c / (N * (Rollout - 2));
            expected += 2 * (j - 1.0 / 27) * (j - 1.0 / 27) / (j + 1.0 / 27);
        }
        Assert.True(expected > 0.01, $"{expected}");
        Assert.Equal(expected, grams - plain, Math.Max(1e-4, 1e-4 * expected));
    }

    [Fact]
    public void The_activity_penalty_is_the_mean_square_of_Cores_states_over_the_rollout()
    {
        // The noise is the generator's first draw (randn [N, 45, d]); Core's double-precision dynamics on it give h_t, and the
        // penalty is 0.5 · mean(h²) over all N · 45 · H entries. Bug caught: the penalty over the first T steps only
        // (its mean over 30 of 45 steps differs by the states' growth from h = 0), a sum in place of the mean.
        manual_seed(4);
        using var model = new HmmRnnModel(8, 3, V, recurrentIdentity: 0.3);
        var (target, pairs) = Targets();
        var plain = LossOf(model, Config, target, pairs);
        var penalised = LossOf(model, Config with { ActivityWeight = 0.5 }, target, pairs);
        float[] noise;
        using (var generator = new Generator(11)) noise = randn([N, Rollout, 3], generator: generator).data<float>().ToArray();
        var weights = model.Snapshot();
        double sum = 0;
        for (int n = 0; n < N; n++)
        {
            var run = ReluRnn.Run(weights, noise.AsSpan(n * Rollout * 3, Rollout * 3).ToArray().Select(x => (double)x).ToArray());
            foreach (var h in run.Hidden) sum += h * h;
        }
        var expected = 0.5 * sum / (N * Rollout * 8);
        Assert.True(expected > 0.01, $"{expected}");
        Assert.Equal(expected, penalised - plain, 1e-4 * Math.Max(1, expected));
    }

    [Fact]
    public void With_a_longer_rollout_the_Sinkhorn_term_compares_the_first_T_steps()
    {
        // Independent: the first T steps of the emitted rollout against the targets through the Sinkhorn loss directly.
        manual_seed(5);
        using var model = new HmmRnnModel(8, 3, V, recurrentIdentity: 0.5);
        var (target, pairs) = Targets();
        var loss = LossOf(model, Config, target, pairs);
        Tensor outputs;
        using (var generator = new Generator(11)) outputs = model.Emit(N, Rollout, 1, generator).narrow(1, 0, T).reshape(N, -1);
        Assert.Equal(SinkhornLoss.Divergence(outputs, target, SinkhornOptions.Paper).ToDouble(), loss, 1e-5);
    }

    [Fact]
    public void The_tensor_boundedness_check_agrees_with_the_array_one()
    {
        // Same networks, other noise streams: the verdicts agree, and the contracting network's median norm within the horizon
        // agrees to sampling error (200 runs × 30 steps of a stationary process: ±10%).
        foreach (var (a, bounded) in new[] { (0.5, true), (1.05, false) })
        {
            using var model = new HmmRnnModel(6, 3, 3);
            model.Load(ConstructedNetworks.Diagonal(a));
            var tensors = Evaluation.MeasureBoundedness(model, 200, 30, 9, CPU);
            var arrays = Boundedness.Measure(ConstructedNetworks.Diagonal(a), 200, 300, 30, Rng.FromSeed(9));
            Assert.Equal(bounded, tensors.Bounded);
            Assert.Equal(bounded, arrays.Bounded);
            Assert.Equal(300, tensors.Steps);
            if (bounded) Assert.Equal(arrays.MedianNorm, tensors.MedianNorm, 0.1 * arrays.MedianNorm);
        }
    }

    [Fact]
    public void Faithful_selection_validates_lags_dwell_likelihood_and_boundedness_each_epoch()
    {
        var config = Config with { Rollout = null, Selection = "faithful", Epochs = 1, PairWeight = 10, PairLags = 5, ActivityWeight = 0.01 };
        var epoch = Trainer.Run(config, RunFolder.Create(Path.Combine(Root, "faithful"))).OfType<EpochCompleted>().Single();
        foreach (var key in new[] { "transition_error", "lag_error", "dwell_deviation", "loglik_deviation", "peak_ratio" })
            Assert.True(epoch.Metrics.ContainsKey(key), key);
        // The score of the fixed draw is the worst deviation over its goal (issue 24: 0.01, 0.02, 10%, 2%; +1000 unbounded),
        // recomputed here from the logged deviations; the epoch's score is the worse of it and a fresh draw's. Red when the
        // fresh draw is left out of the score, or drawn with the fixed draw's noise (the two scores then coincide).
        var m = epoch.Metrics;
        var fixedScore = new[] { m["transition_error"] / 0.01, m["lag_error"] / 0.02, m["dwell_deviation"] / 0.10, Math.Abs(m["loglik_deviation"]) / 0.02 }.Max()
            + (m["peak_ratio"] <= 100 ? 0 : 1000);
        Assert.Equal(fixedScore, m["score_fixed"], 9);
        Assert.NotEqual(m["score_fixed"], m["score_fresh"]);
        Assert.Equal(Math.Max(m["score_fixed"], m["score_fresh"]), epoch.BestScore);
        Assert.Throws<ValidationException>(() => (Config with { PairLags = T }).Validate());
        Assert.Throws<ValidationException>(() => (Config with { Rollout = T - 1 }).Validate());
        Assert.Throws<ValidationException>(() => (Config with { ActivityWeight = -1 }).Validate());
    }

    /// <summary>Soft sequences [n, T, V] (each row a distribution), requiring a gradient.</summary>
    private static Tensor SoftSequences(int n, int length, int symbols, long seed)
    {
        using var generator = new Generator((ulong)seed);
        return nn.functional.softmax(randn([n, length, symbols], generator: generator, dtype: ScalarType.Float64), 2).detach().requires_grad_(true);
    }

    /// <summary>The gradient of Σ weights · f(x) with respect to x.</summary>
    private static double[] GradientOf(Tensor x, Func<Tensor, Tensor> f, long seed)
    {
        x.grad?.zero_();
        var y = f(x);
        using var generator = new Generator((ulong)seed);
        (y * randn(y.shape, generator: generator, dtype: y.dtype)).sum().backward();
        return x.grad!.data<double>().ToArray();
    }

    [Fact]
    public void Every_lag_at_once_is_each_lag_alone_in_value_and_gradient()
    {
        // The one-product form (windows padded with zeros past the end) against the definition lag by lag — the mean outer
        // product of the outputs k steps apart over the n·(T − k) pairs — on soft sequences where every entry matters. Bugs
        // caught: a window off by one step (lag k read as k − 1 or k + 1), the zero padding read as a symbol (pairs past the end
        // counted), a lag normalised by T instead of T − k, the symbols' axes swapped (P(o_t+k = i, o_t = j)).
        var x = SoftSequences(5, 9, 3, seed: 1);
        var together = HmmTask.PairFrequenciesUpTo(x, 8).data<double>().ToArray();
        static Tensor Lag(Tensor s, int k) =>
            s.narrow(1, 0, 9 - k).reshape(-1, 3).t().matmul(s.narrow(1, k, 9 - k).reshape(-1, 3)).div(5.0 * (9 - k));
        var alone = Enumerable.Range(1, 8).SelectMany(k => Lag(x, k).data<double>().ToArray()).ToArray();
        Assert.Equal(alone, together, (a, b) => Math.Abs(a - b) < 1e-12);
        var g1 = GradientOf(x, s => HmmTask.PairFrequenciesUpTo(s, 8), seed: 2);
        var g2 = GradientOf(x, s => stack(Enumerable.Range(1, 8).Select(k => Lag(s, k)).ToArray()), seed: 2);
        Assert.True(g1.Any(v => Math.Abs(v) > 1e-3));
        Assert.Equal(g2, g1, (a, b) => Math.Abs(a - b) < 1e-12);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void NGram_frequencies_are_the_mean_outer_product_of_each_window_in_value_and_gradient(int n)
    {
        // Against the definition written out: for each window, the product of its n symbols' probabilities at every index
        // i_1 … i_n (lexicographic), averaged over windows. Bugs caught: the two halves joined in the wrong order (index
        // i_(h+1) … i_n · V^h + …), a half that starts one step off, the mean over the wrong count of windows.
        const int batch = 4, length = 7, symbols = 3;
        var x = SoftSequences(batch, length, symbols, seed: 3);
        var p = x.detach().data<double>().ToArray();
        int windows = length - n + 1, cells = (int)Math.Pow(symbols, n);
        var expected = new double[cells];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < windows; t++)
                for (int cell = 0; cell < cells; cell++)
                {
                    double product = 1;
                    for (int k = n - 1, rest = cell; k >= 0; k--, rest /= symbols) product *= p[(b * length + t + k) * symbols + rest % symbols];
                    expected[cell] += product / (batch * windows);
                }
        Assert.Equal(expected, HmmTask.NGramFrequencies(x, n).data<double>().ToArray(), (a, b) => Math.Abs(a - b) < 1e-12);
        // The gradient of Σ_cell c_cell · F_cell, written out: ∂/∂p[b, t + j, v] = Σ_{cells with i_j = v} c_cell · Π_{k≠j} p / count.
        var c = new double[cells];
        using (var generator = new Generator(4)) c = randn([cells], generator: generator, dtype: ScalarType.Float64).data<double>().ToArray();
        var grad = new double[p.Length];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < windows; t++)
                for (int cell = 0; cell < cells; cell++)
                {
                    var index = new int[n];
                    for (int k = n - 1, rest = cell; k >= 0; k--, rest /= symbols) index[k] = rest % symbols;
                    for (int j = 0; j < n; j++)
                    {
                        double others = 1;
                        for (int k = 0; k < n; k++) if (k != j) others *= p[(b * length + t + k) * symbols + index[k]];
                        grad[(b * length + t + j) * symbols + index[j]] += c[cell] * others / (batch * windows);
                    }
                }
        Assert.Equal(grad, GradientOf(x, s => HmmTask.NGramFrequencies(s, n), seed: 4), (a, b) => Math.Abs(a - b) < 1e-12);
    }

    [Fact]
    public void The_mean_square_stays_finite_past_float32_and_its_gradient_is_2h_over_N()
    {
        // mean(h²) of float32 states: at 1e20 a float32 square is +∞; the penalty must give 1e40 (float64) and a finite gradient.
        // Bugs caught: squares taken in float32 for exploding states (+∞), a gradient carried back through a float32 cast of a
        // huge factor (+∞), the float64 path for small states giving another value.
        var small = tensor(new float[] { 0.5f, -0.25f, 0f, 0.125f }).requires_grad_(true);
        var value = HmmTask.MeanSquare(small);
        Assert.Equal(ScalarType.Float64, value.dtype);
        Assert.Equal((0.25 + 0.0625 + 0.015625) / 4, value.ToDouble(), 1e-12);
        value.backward();
        Assert.Equal(new[] { 0.25f, -0.125f, 0f, 0.0625f }, small.grad!.data<float>().ToArray());
        foreach (var scale in new[] { 1e20f, 1e30f })
        {
            // Weighted as the preset weighs it (0.01): the gradient 0.02h/N must stay finite (a float64 factor λ·s² carried back
            // through a float32 cast does not: +∞ at s = 3e20).
            var huge = tensor(new float[] { scale, -3 * scale, 2f }).requires_grad_(true);
            var big = HmmTask.MeanSquare(huge).mul(0.01);
            Assert.Equal(0.01 * (10.0 * scale * scale + 4) / 3, big.ToDouble(), 1e-6 * 0.01 * 10.0 * scale * scale);
            big.backward();
            Assert.Equal(new[] { 0.02f * scale / 3, -0.06f * scale / 3, 0.04f / 3 }, huge.grad!.data<float>().ToArray(), (a, b) => Math.Abs(a - b) <= 1e-6 * Math.Abs(b));
        }
    }
}
