using System.Collections.Immutable;
using HmmRnn.Analysis.HmmEmulation;
using HmmRnn.Analysis.Numerics;
using HmmRnn.Core;
using HmmRnn.Core.HiddenMarkov;
using HmmRnn.Host.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HmmRnn.Host.Tasks.Hmm;

/// <summary>
/// Training an RNN to emit the sequences of an HMM with the Sinkhorn divergence (Torre et al. 2025):
/// the HMM task's model, loss, data and validation for the shared <see cref="Trainer"/> loop.
/// </summary>
/// <remarks>
/// Reproducibility: data come from Core's sampler (seeded); the initial weights from
/// <c>torch.manual_seed(seed)</c>; each epoch's noise from its own generator seeded by (seed, epoch),
/// and its batch order from the Core stream of that epoch.
/// </remarks>
public sealed class HmmTask : ITrainingTask
{
    private readonly HmmTrainingConfig config;
    private readonly TrainingData data;
    private readonly HmmRnnModel model;
    private readonly OptimizerHelper optimizer;
    private readonly SinkhornOptions sinkhorn;
    private readonly Device device;
    private int currentEpoch;

    /// <summary>Samples the data, seeds torch, builds the model and Adam (in that order: the order fixes the weights).</summary>
    public HmmTask(HmmTrainingConfig config, Device device)
    {
        ArgumentNullException.ThrowIfNull(config);
        (this.config, this.device) = (config, device);
        data = TrainingData.Create(config, device);
        manual_seed(config.Seed);
        model = new HmmRnnModel(config.Hidden, config.Input, data.Symbols, config.RecurrentIdentity);
        model.to(device);
        optimizer = optim.Adam(model.parameters(), lr: config.LearningRate, beta1: config.Beta1, beta2: config.Beta2);
        sinkhorn = new SinkhornOptions(config.Blur, config.Scaling);
    }

    /// <inheritdoc />
    public nn.Module Model => model;

    /// <inheritdoc />
    public OptimizerHelper Optimizer => optimizer;

    /// <inheritdoc />
    public int StepsPerEpoch => (data.TrainCount + config.Batch - 1) / config.Batch;

    /// <inheritdoc />
    public ITrainingEpoch BeginEpoch(int epoch)
    {
        OptimizerSteps.SetLearningRate(optimizer, config.LearningRateAt(epoch) * learningRateScale);
        currentEpoch = epoch;
        return new Epoch(this, epoch);
    }

    /// <inheritdoc />
    public double LearningRateScale
    {
        get => learningRateScale;
        set
        {
            learningRateScale = value;
            OptimizerSteps.SetLearningRate(optimizer, config.LearningRateAt(currentEpoch) * value);
        }
    }

    private double learningRateScale = 1;

    /// <summary>
    /// The Sinkhorn divergence between the validation set (up to one batch) and as many generated sequences, on fixed
    /// noise; the squared error of the output-transition matrix of generated sequences against the split's own — those the
    /// loss compared where the loss selects, otherwise as many as the split holds on other fixed noise than the evaluation's;
    /// and, for <c>faithful</c> selection, the
    /// whole agreement with the split (<see cref="Emulation.Agreement(Core.HiddenMarkov.Hmm, IReadOnlyList{System.Collections.Immutable.ImmutableArray{int}}, SampleSummary, EmulationGoals?)"/>: lags, dwell times, likelihood) and the boundedness of
    /// <see cref="ValidationRuns"/> noise-driven runs of 10 × T, its score the worse of that fixed draw's and a fresh draw's
    /// (metrics <c>score_fixed</c>, <c>score_fresh</c>). <see cref="HmmTrainingConfig.Selection"/> says what picks the best checkpoint.
    /// </summary>
    public Validation Validate()
    {
        double divergence;
        ImmutableArray<int>[]? emitted = null;
        using (var scope = NewDisposeScope())
        using (var _ = no_grad())
        using (var generator = new Generator(EpochSeed(config.Seed, -1), device))
        {
            var n = data.Validation.shape[0];
            var samples = model.Emit(n, data.Length, config.Temperature, generator);
            divergence = SinkhornLoss.Divergence(samples.reshape(n, -1), data.Validation, sinkhorn).ToDouble();
            if (config.Selection == "loss") emitted = Evaluation.Symbols(samples);
        }
        // Where the transition error only reports (selection by the loss, the paper's), it is read from the sequences the loss
        // compared (min(split, batch) of them); where it selects, from as many fresh ones as the split holds.
        var generated = emitted
            ?? Evaluation.Generate(model, data.ValidationSample.Count, data.Length, config.Temperature, ValidationNoiseSeed(config.Seed), device);
        if (config.Selection != "faithful")
        {
            var transition = EmpiricalStatistics.TransitionSquaredError(
                EmpiricalStatistics.Outputs(generated, data.Symbols).Transition, data.ValidationSummary.Outputs.Transition);
            return new Validation(divergence, new Dictionary<string, double> { ["transition_error"] = transition })
            { Score = config.Selection == "transition" ? transition : divergence };
        }

        var agreement = Emulation.Agreement(config.Entry.Hmm, generated, data.ValidationSummary);
        var bounded = Evaluation.MeasureBoundedness(model, ValidationRuns, data.Length, (ulong)ValidationNoiseSeed(config.Seed) + 1, device);
        // The same verdicts on a second draw, fresh each epoch: run statistics are heavy-tailed, and an epoch chosen because it
        // looked best on the one fixed draw was often faithful on that draw alone (issue 24, fully3). The score is the worse
        // of the two, so a chosen epoch has passed on two independent samples.
        var again = Evaluation.Generate(model, data.ValidationSample.Count, data.Length, config.Temperature, FreshNoiseSeed(config.Seed, currentEpoch), device);
        var fresh = Emulation.Agreement(config.Entry.Hmm, again, data.ValidationSummary).Score(EmulationGoals.Default, bounded.Bounded);
        var score = agreement.Score(EmulationGoals.Default, bounded.Bounded);
        var metrics = new Dictionary<string, double>
        {
            ["transition_error"] = agreement.TransitionError, ["lag_error"] = agreement.LagError, ["dwell_deviation"] = agreement.DwellDeviation,
            ["loglik_deviation"] = agreement.LogLikelihoodDeviation, ["peak_ratio"] = bounded.PeakRatio, ["score_fixed"] = score, ["score_fresh"] = fresh,
        };
        return new Validation(divergence, metrics) { Score = Math.Max(score, fresh) };
    }

    /// <summary>The seed of epoch <paramref name="epoch"/>'s fresh validation draw (faithful selection): its own stream of the run's seed.</summary>
    private static long FreshNoiseSeed(long seed, int epoch) => (long)(Rng.FromSeed(seed).Substream(6).Substream(epoch).NextUInt64().Value >> 1);

    /// <summary>Noise-driven runs of 10 × T behind the validation's boundedness check (the evaluation uses 1,000).</summary>
    public const int ValidationRuns = 256;

    /// <summary>The seed of the validation's generated sequences: another stream than any evaluation seed's.</summary>
    private static long ValidationNoiseSeed(long seed) => (long)(Rng.FromSeed(seed).Substream(5).NextUInt64().Value >> 1);

    /// <inheritdoc />
    public void Dispose()
    {
        optimizer.Dispose();
        model.Dispose();
        data.Dispose();
    }

    /// <summary>
    /// The training step itself (noise → RNN → hard Gumbel-softmax → Sinkhorn divergence → Adam with
    /// clipping) against one-hot targets [B, T·V]; returns the loss. Shared by the task and <c>bench train</c>, which also
    /// passes <paramref name="kernel"/> (training leaves it to <see cref="SinkhornKernel.Auto"/>).
    /// </summary>
    internal static double Step(HmmRnnModel model, optim.Optimizer optimizer, Tensor target, int length,
        Generator? generator, SinkhornOptions sinkhorn, HmmTrainingConfig config, PairTargets? pairTargets = null, SinkhornKernel kernel = SinkhornKernel.Auto)
    {
        using var scope = NewDisposeScope();
        var loss = Loss(model, target, length, generator, sinkhorn, config, pairTargets, kernel);
        return OptimizerSteps.Take(loss, optimizer, model.parameters(), config.EffectiveGradClip);
    }

    /// <summary>
    /// The training loss of one batch: the network runs <see cref="HmmTrainingConfig.EffectiveRollout"/> steps; the Sinkhorn
    /// divergence compares its first <paramref name="length"/> steps with <paramref name="target"/>; the pair term adds, for
    /// each lag k = 1 … <see cref="HmmTrainingConfig.EffectivePairLags"/>, PairWeight · Σ_ij (J^k_ij − K^k_ij)² / K^k_ij between
    /// the rollout's pair frequencies J^k and the training split's K^k (<paramref name="pairTargets"/>[k − 1]); the activity
    /// penalty adds ActivityWeight · mean(h²) over the rollout; with <see cref="HmmTrainingConfig.StartPairs"/> = S, the one-step
    /// term is also taken at each position t &lt; S alone, PairWeight · Σ_t χ²(J_t, K_t) against the training split's pairs at t;
    /// with <see cref="HmmTrainingConfig.NGrams"/> = N, PairWeight · Σ (J − K)² / (J + K) over the n-gram frequencies, n = 3 … N;
    /// with <see cref="HmmTrainingConfig.RunLengths"/> = L, the same over the run-length frequencies (<see cref="RunLengthFrequencies"/>);
    /// with <see cref="HmmTrainingConfig.TransitionWeight"/> = w, w · the squared error of the lag-1 transition matrices (<see cref="TransitionSquaredError"/>).
    /// </summary>
    internal static Tensor Loss(HmmRnnModel model, Tensor target, int length, Generator? generator, SinkhornOptions sinkhorn,
        HmmTrainingConfig config, PairTargets? pairTargets, SinkhornKernel kernel = SinkhornKernel.Auto)
    {
        using var scope = NewDisposeScope();
        var n = target.shape[0];
        var rollout = Math.Max(length, config.Rollout ?? length);
        var (hidden, sequences) = model.EmitWithStates(n, rollout, config.Temperature, generator);
        var outputs = (rollout == length ? sequences : sequences.narrow(1, 0, length)).reshape(n, -1);
        var loss = SinkhornLoss.Divergence(outputs, target, sinkhorn, kernel);
        Tensor? pairs = null;
        if (config.PairWeight > 0 && pairTargets is not null)
        {
            var lags = Math.Min(config.EffectivePairLags, (int)pairTargets.Lags.shape[0]);
            if (lags > 0) loss = loss + ChiSquare(pairs = PairFrequenciesUpTo(sequences, lags), pairTargets.Lags.narrow(0, 0, lags)).Times(config.PairWeight);
            if (config.NGrams is int order)
                for (int grams = 3; grams <= Math.Min(order, 2 + pairTargets.ByOrder.Count); grams++)
                    loss = loss + Triangular(NGramFrequencies(sequences, grams), pairTargets.ByOrder[grams - 3]).Times(config.PairWeight);
            if (config.RunLengths is int runs && pairTargets.RunLengths is { } runTargets)
                loss = loss + Triangular(RunLengthFrequencies(sequences, runs), runTargets.narrow(0, 0, runs)).Times(config.PairWeight);
            if (config.StartPairs is int positions && pairTargets.ByPosition is { } byPosition)
                loss = loss + ChiSquare(PairFrequenciesByPosition(sequences, positions), byPosition.narrow(0, 0, positions)).Times(config.PairWeight);
        }
        if (config.TransitionWeight is double weight && weight > 0 && pairTargets is not null)
            loss = loss + TransitionSquaredError((pairs ?? PairFrequenciesUpTo(sequences, 1))[0], pairTargets.Lags[0]).Times(weight);
        if (config.ActivityWeight > 0) loss = loss.to(ScalarType.Float64) + MeanSquare(hidden).Times(config.ActivityWeight);
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// mean(h²) as a float64 scalar that stays finite, with a finite gradient 2h/N, while every state is: squares are taken in
    /// float32 while the largest |h| is below 1e15 (a square of 1e20 is past float32's 3.4e38), in float64 beyond — an
    /// exploding network, whose penalty must still pull it back (an infinite loss or gradient stalls the optimiser for good).
    /// The float64 copy, 8 bytes a state, made the penalty ≈ 2× the time of the rest of a linear2 step's statistics.
    /// </summary>
    internal static Tensor MeanSquare(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        using var largest = hidden.detach().abs().max();
        var squares = largest.ToDouble() < MeanSquareInFloat32Below ? hidden.square().mean() : hidden.to(ScalarType.Float64).square().mean();
        return squares.to(ScalarType.Float64).MoveToOuterDisposeScope();
    }

    /// <summary>The largest |h| up to which <see cref="MeanSquare"/> squares in float32.</summary>
    internal const double MeanSquareInFloat32Below = 1e15;

    /// <summary>
    /// The triangular discrimination Σ (J − K)² / (J + K) (0/0 taken as 0): twice the χ² where J ≈ K, but bounded (≤ 2) and
    /// linear in J for a cell the data never shows. Used for n-grams, most of whose V^n cells are (nearly) empty: under χ² with a
    /// floored K those cells' gradients swamp every other term while the network is still emitting noise, and Adam's steps
    /// along them blew linear2's recurrence up within 16 steps (loss NaN, seed 10).
    /// </summary>
    private static Tensor Triangular(Tensor generated, Tensor target) =>
        (generated - target).square().div((generated + target).ClampMin(1e-12)).sum();

    /// <summary>
    /// Σ_ij (J_ij / Σ_k J_ik − K_ij / Σ_k K_ik)²: the squared error between the transition matrices that two lag-1 pair-frequency
    /// matrices [V, V] imply (rows normalised; a row with no mass, floored at 1e-12, counts as zeros). The paper's success
    /// measure on generated against training pairs, differentiable in <paramref name="generated"/>.
    /// </summary>
    internal static Tensor TransitionSquaredError(Tensor generated, Tensor target)
    {
        using var scope = NewDisposeScope();
        static Tensor Rows(Tensor pairs) => pairs / pairs.sum(1, keepdim: true).ClampMin(1e-12);
        return (Rows(generated) - Rows(target)).square().sum().MoveToOuterDisposeScope();
    }

    /// <summary>Σ (J − K)² / K over every entry, K floored at 1e-6 (a pair the data never shows is all but forbidden).</summary>
    private static Tensor ChiSquare(Tensor generated, Tensor target) => (generated - target).square().div(target.ClampMin(1e-6)).sum();

    /// <summary>
    /// The frequencies of n-grams P(o_t = i_1, …, o_t+n−1 = i_n) over a batch of one-hot (or soft) sequences [batch, T, V], pooled
    /// over positions: [V^n], index i_1·V^(n−1) + … + i_n. Differentiable through the straight-through outputs.
    /// </summary>
    internal static Tensor NGramFrequencies(Tensor sequences, int n)
    {
        long batch = sequences.shape[0], T = sequences.shape[1], V = sequences.shape[2];
        if (n < 1 || n > T) throw new ArgumentOutOfRangeException(nameof(n), n, $"must be in [1, {T}]");
        using var scope = NewDisposeScope();
        var windows = T - n + 1;
        if (n == 1) return sequences.reshape(-1, V).mean([0]).MoveToOuterDisposeScope();
        // The outer products of the first ⌈n/2⌉ symbols and of the rest, window by window ([batch · windows, V^⌈n/2⌉] and
        // [batch · windows, V^⌊n/2⌋]), joined by one matrix product that also sums over the windows: the full
        // [batch · windows, V^n] product is never formed (a 4-gram's is 81 floats a window).
        var head = (n + 1) / 2;
        return Outer(0, head).t().matmul(Outer(head, n - head)).reshape(-1).Over(batch * windows).MoveToOuterDisposeScope();

        Tensor Outer(int from, int count)
        {
            var product = sequences.narrow(1, from, windows).reshape(-1, V);
            for (int k = 1; k < count; k++)
                product = (product.unsqueeze(2) * sequences.narrow(1, from + k, windows).reshape(-1, V).unsqueeze(1)).reshape(batch * windows, -1);
            return product;
        }
    }

    /// <summary>
    /// The frequency, for each length L = 1 … <paramref name="maxLength"/> and symbol a, of a run of a that starts at t and
    /// lasts at least L steps: P(o_t−1 ≠ a, o_t = … = o_t+L−1 = a), pooled over the positions t ≥ 1 where the window fits, over a
    /// batch of one-hot (or soft) sequences [batch, T, V]: [maxLength, V]. A run's start needs the step before it, so runs that
    /// begin at the first step are not counted (the same for the data, so the targets agree). Differentiable through the
    /// straight-through outputs: (1 − o_t−1,a) · Π o_s,a.
    /// </summary>
    internal static Tensor RunLengthFrequencies(Tensor sequences, int maxLength)
    {
        long T = sequences.shape[1];
        if (maxLength < 1 || maxLength >= T) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, $"must be in [1, {T - 1}]");
        using var scope = NewDisposeScope();
        var windows = T - 1;
        var run = sequences.narrow(1, 0, windows).OneMinus() * sequences.narrow(1, 1, windows); // a run of a starts at t (t = 1 … T − 1)
        var byLength = new List<Tensor>(maxLength);
        for (int length = 1; ; length++)
        {
            byLength.Add(run.mean([0, 1]));
            if (length == maxLength) break;
            windows--;
            run = run.narrow(1, 0, windows) * sequences.narrow(1, 1 + length, windows);  // … and o_t+L = a too
        }
        return stack(byLength).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// P(o_t = i, o_{t+1} = j) at each position t &lt; <paramref name="positions"/> alone, over a batch of one-hot (or soft)
    /// sequences [n, T, V]: [positions, V, V]. Differentiable through the straight-through outputs.
    /// </summary>
    internal static Tensor PairFrequenciesByPosition(Tensor sequences, int positions)
    {
        long n = sequences.shape[0], T = sequences.shape[1];
        if (positions < 1 || positions >= T) throw new ArgumentOutOfRangeException(nameof(positions), positions, $"must be in [1, {T - 1}]");
        using var scope = NewDisposeScope();
        var before = sequences.narrow(1, 0, positions).permute(1, 2, 0); // [P, V, n]
        var after = sequences.narrow(1, 1, positions).permute(1, 0, 2);  // [P, n, V]
        return before.bmm(after).Over(n).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// P(o_t = i, o_t+k = j) for every lag k = 1 … <paramref name="lags"/> at once, over a batch of one-hot (or soft) sequences
    /// [n, T, V]: [lags, V, V], entry k − 1 the mean outer product of outputs k steps apart, over the n·(T − k) pairs.
    /// Differentiable through the straight-through outputs. One matrix product against the sequences' windows o_t+1 … o_t+lags
    /// (zero past the end) in place of one product, and two copies, per lag. The pair terms' targets and the generated
    /// frequencies both come from here.
    /// </summary>
    internal static Tensor PairFrequenciesUpTo(Tensor sequences, int lags)
    {
        long n = sequences.shape[0], T = sequences.shape[1], V = sequences.shape[2];
        if (lags < 1 || lags >= T) throw new ArgumentOutOfRangeException(nameof(lags), lags, $"must be in [1, {T - 1}]");
        using var scope = NewDisposeScope();
        var later = nn.functional.pad(sequences, [0, 0, 0, lags]).unfold(1, lags + 1, 1).narrow(3, 1, lags); // [n, T, V, lags]: o_t+k
        var counts = sequences.reshape(n * T, V).t().matmul(later.reshape(n * T, V * lags)).reshape(V, V, lags).permute(2, 0, 1);
        var pairs = tensor(Enumerable.Range(1, lags).Select(k => (float)(n * (T - k))).ToArray(), [lags, 1, 1], dtype: sequences.dtype, device: sequences.device);
        return counts.div(pairs).MoveToOuterDisposeScope();
    }

    private static ulong EpochSeed(long seed, int epoch) => Rng.FromSeed(seed).Substream(epoch + 2).NextUInt64().Value >> 1;

    private static long[] Permutation(int n, Rng rng)
    {
        var p = new long[n];
        for (int i = 0; i < n; i++) p[i] = i;
        rng.Shuffle<long>(p);
        return p;
    }

    /// <summary>An epoch: its noise generator and its batch order.</summary>
    private sealed class Epoch(HmmTask task, int epoch) : ITrainingEpoch
    {
        private readonly Generator generator = new(EpochSeed(task.config.Seed, epoch), task.device);
        private readonly long[] order = Permutation(task.data.TrainCount, Rng.FromSeed(task.config.Seed).Substream(1_000_000 + epoch));

        public double Step(int step)
        {
            using var scope = NewDisposeScope();
            var c = task.config;
            var batch = order.AsSpan(step * c.Batch, Math.Min(c.Batch, task.data.TrainCount - step * c.Batch)).ToArray();
            var target = task.data.Train.index_select(0, tensor(batch, device: task.data.Train.device));
            if (c.WarmupSteps is not null)
                OptimizerSteps.SetLearningRate(task.optimizer, c.LearningRateAt(epoch, (long)epoch * task.StepsPerEpoch + step) * task.learningRateScale);
            return HmmTask.Step(task.model, task.optimizer, target, task.data.Length, generator, task.sinkhorn, c, task.data.TrainPairs);
        }

        public void Dispose() => generator.Dispose();
    }
}

/// <summary>The run's HMM sequences as one-hot tensors on the device: train and validation (one batch at most).</summary>
internal sealed class TrainingData : IDisposable
{
    private TrainingData(Tensor train, Tensor validation, HmmSample validationSample, Core.HiddenMarkov.Hmm hmm, int length, int pairLags, int? startPairs, int? nGrams, int? runLengths)
    {
        (Train, Validation, ValidationSample, Length, Symbols) = (train, validation, validationSample.Outputs, length, hmm.Symbols);
        ValidationSummary = Emulation.Summarise(hmm, ValidationSample);
        using (no_grad())
        {
            var sequences = train.reshape(train.shape[0], length, Symbols);
            TrainPairs = new PairTargets(HmmTask.PairFrequenciesUpTo(sequences, pairLags),
                startPairs is int s ? HmmTask.PairFrequenciesByPosition(sequences, s) : null)
            {
                ByOrder = [.. Enumerable.Range(3, Math.Max(0, (nGrams ?? 2) - 2)).Select(n => HmmTask.NGramFrequencies(sequences, n))],
                RunLengths = runLengths is int runs ? HmmTask.RunLengthFrequencies(sequences, runs) : null,
            };
        }
    }

    public Tensor Train { get; }
    public Tensor Validation { get; }
    /// <summary>The training split's pair frequencies: the pair terms' targets.</summary>
    public PairTargets TrainPairs { get; }
    /// <summary>The whole validation split (the tensor holds one batch of it at most).</summary>
    public IReadOnlyList<System.Collections.Immutable.ImmutableArray<int>> ValidationSample { get; }
    /// <summary>The validation split's statistics (its output-transition matrix, lags, dwell times, likelihood), computed once.</summary>
    public SampleSummary ValidationSummary { get; }
    public int Length { get; }
    public int Symbols { get; }
    public int TrainCount => (int)Train.shape[0];

    /// <summary>
    /// The run's three splits of the catalogue model's sequences (paper: 10,000 each) come from three
    /// independent streams of the run's seed: the trainer uses train and validation, the evaluation the
    /// test split, and none depends on the others' sizes.
    /// </summary>
    private static (Rng Train, Rng Validation, Rng Test) SplitStreams(HmmTrainingConfig config)
    {
        var (train, rest) = Rng.FromSeed(config.Seed).Substream(1).Split();
        var (validation, test) = rest.Split();
        return (train, validation, test);
    }

    /// <summary>The held-out test split (what the evaluation compares with); never trained on.</summary>
    public static HmmSample TestSplit(HmmTrainingConfig config) =>
        HmmSampling.Sample(config.Entry.Hmm, config.TestSequences, config.Entry.SequenceLength, SplitStreams(config).Test);

    /// <summary>Train and validation splits as one-hot tensors on <paramref name="device"/>.</summary>
    public static TrainingData Create(HmmTrainingConfig config, Device device)
    {
        var entry = config.Entry;
        var streams = SplitStreams(config);
        int T = entry.SequenceLength, V = entry.Hmm.Symbols;
        var train = HmmSampling.Sample(entry.Hmm, config.TrainSequences, T, streams.Train);
        var validation = HmmSampling.Sample(entry.Hmm, config.ValidationSequences, T, streams.Validation);
        var firstBatch = validation with { Outputs = validation.Outputs[..Math.Min(config.ValidationSequences, config.Batch)], States = [] };
        return new TrainingData(OneHot(train, V).to(device), OneHot(firstBatch, V).to(device), validation, entry.Hmm, T, config.EffectivePairLags, config.StartPairs, config.NGrams, config.RunLengths);
    }

    /// <summary>[N, T·V] float32: the one-hot rows of each sequence, flattened (the paper's points in R^(3T)).</summary>
    public static Tensor OneHot(HmmSample sample, int symbols) =>
        tensor(EmpiricalStatistics.OneHot(sample.Outputs, symbols), [sample.Count, sample.Length * symbols]).to_type(ScalarType.Float32);

    public void Dispose()
    {
        Train.Dispose();
        Validation.Dispose();
        TrainPairs.Dispose();
    }
}

/// <summary>The targets of the pair terms, from the training split.</summary>
/// <param name="Lags">P(o_t = i, o_{t+k} = j) pooled over positions, for k = 1 … (index k − 1), [lags, V, V]
/// (<see cref="HmmTask.PairFrequenciesUpTo"/>).</param>
/// <param name="ByPosition">P(o_t = i, o_{t+1} = j) at each of the first positions alone, [positions, V, V]; null when not used.</param>
internal sealed record PairTargets(Tensor Lags, Tensor? ByPosition) : IDisposable
{
    /// <summary>The n-gram frequencies for n = 3, 4, … (index n − 3), [V^n] each; empty when not used.</summary>
    public IReadOnlyList<Tensor> ByOrder { get; init; } = [];

    /// <summary>The run-length frequencies (<see cref="HmmTask.RunLengthFrequencies"/>), [lengths, V]; null when not used.</summary>
    public Tensor? RunLengths { get; init; }

    public void Dispose()
    {
        Lags.Dispose();
        foreach (var t in ByOrder) t.Dispose();
        ByPosition?.Dispose();
        RunLengths?.Dispose();
    }
}
