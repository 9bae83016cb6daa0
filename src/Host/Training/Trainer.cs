using System.Diagnostics;
using System.Reactive.Linq;
using HmmRnn.Analysis;
using HmmRnn.Core;
using HmmRnn.Core.Rnn;
using HmmRnn.Host.Output;
using TorchSharp;
using static TorchSharp.torch;

namespace HmmRnn.Host.Training;

/// <summary>
/// Trains an RNN to emit the sequences of an HMM with the Sinkhorn divergence (Torre et al. 2025).
/// A cold iterator of <see cref="TrainingEvent"/>s; <see cref="Observe"/> turns it into an
/// observable that sinks (progress, logs, plots) subscribe to.
/// </summary>
/// <remarks>
/// Reproducibility: data come from Core's sampler (seeded); the initial weights from
/// <c>torch.manual_seed(seed)</c>; each epoch's noise from its own generator seeded by (seed, epoch),
/// and its batch order from the Core stream of that epoch. A run resumed from the last checkpoint
/// (written after every epoch) therefore repeats the uninterrupted run bit for bit on the CPU.
/// </remarks>
public static class Trainer
{
    /// <summary>The file names inside a run folder.</summary>
    public const string LastCheckpoint = "checkpoints/last.ckpt", BestCheckpoint = "checkpoints/best.ckpt";

    /// <summary>The events of one run, produced as the caller enumerates.</summary>
    public static IEnumerable<TrainingEvent> Run(TrainingConfig config, RunFolder folder, bool resume = false, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(folder);
        config.Validate();
        var clock = Stopwatch.StartNew();
        var device = config.Device == "cuda" ? CUDA : CPU;
        if (config.Device == "cuda" && !cuda.is_available())
            throw new InvalidOperationException("Device = cuda: CUDA is not available on this machine (run 'hmmrnn doctor')");

        var data = TrainingData.Create(config, device);
        manual_seed(config.Seed);
        using var model = new HmmRnnModel(config.Hidden, config.Input, data.Symbols, config.RecurrentIdentity);
        model.to(device);
        using var optimizer = optim.Adam(model.parameters(), lr: config.LearningRate, beta1: config.Beta1, beta2: config.Beta2);
        var sinkhorn = new SinkhornOptions(config.Blur, config.Scaling);
        var hash = config.Hash();

        int startEpoch = 0, bestEpoch = 0;
        double bestLoss = double.PositiveInfinity;
        var last = folder.PathOf(LastCheckpoint);
        if (resume && File.Exists(last))
        {
            var meta = Checkpoint.ReadMeta(last);
            if (meta.ConfigHash != hash)
                throw new InvalidOperationException($"--resume: {last} was written by a run with another configuration (hash {meta.ConfigHash}, this run {hash})");
            Checkpoint.Load(last, model, optimizer);
            (startEpoch, bestEpoch, bestLoss) = (meta.Epoch, meta.BestEpoch, meta.BestValidationLoss);
        }
        int stepsPerEpoch = (data.TrainCount + config.Batch - 1) / config.Batch;
        yield return new TrainingStarted(clock.Elapsed, config, model.parameters().Sum(p => p.numel()), startEpoch, stepsPerEpoch, device.ToString());
        if (startEpoch == 0)
            yield return Save(folder, LastCheckpoint, 0, double.NaN, false);

        bool cancelled = false;
        int epoch = startEpoch;
        for (; epoch < config.Epochs && !cancelled; epoch++)
        {
            using var generator = new Generator(EpochSeed(config.Seed, epoch), device);
            var order = Permutation(data.TrainCount, Rng.FromSeed(config.Seed).Substream(1_000_000 + epoch));
            double lossSum = 0;
            int steps = 0;
            for (int step = 0; step < stepsPerEpoch; step++)
            {
                if (cancellation.IsCancellationRequested) { cancelled = true; break; }
                var batch = order.AsSpan(step * config.Batch, Math.Min(config.Batch, data.TrainCount - step * config.Batch)).ToArray();
                var log = (step + 1) % config.LogEvery == 0 || step == stepsPerEpoch - 1;
                var loss = TrainStep(model, optimizer, data, batch, generator, sinkhorn, config);
                lossSum += loss;
                steps++;
                if (log) yield return new BatchCompleted(clock.Elapsed, epoch + 1, epoch * stepsPerEpoch + step + 1, loss);
            }
            if (cancelled) break;
            var validation = ValidationLoss(model, data, sinkhorn, config, device);
            var isBest = validation < bestLoss;
            if (isBest) (bestLoss, bestEpoch) = (validation, epoch + 1);
            yield return new EpochCompleted(clock.Elapsed, epoch + 1, lossSum / steps, validation, isBest, bestLoss, bestEpoch,
                Environment.WorkingSet);
            if (isBest) yield return Save(folder, BestCheckpoint, epoch + 1, validation, true);
            yield return Save(folder, LastCheckpoint, epoch + 1, validation, false);
        }
        yield return new TrainingFinished(clock.Elapsed, epoch, bestEpoch, bestLoss, cancelled);

        CheckpointSaved Save(RunFolder f, string name, int completed, double validation, bool best)
        {
            var meta = new CheckpointMeta(completed, hash, config.Seed, bestEpoch, bestLoss, validation,
                typeof(Trainer).Assembly.GetName().Version?.ToString() ?? "?", typeof(torch).Assembly.GetName().Version?.ToString() ?? "?",
                __version__, DateTimeOffset.UtcNow);
            return new CheckpointSaved(clock.Elapsed, completed, Checkpoint.Save(f, name, meta, model, optimizer), best);
        }
    }

    /// <summary>
    /// The run as a cold observable: each subscription trains once, on a worker thread; disposing the
    /// subscription cancels after the current step. Errors arrive as <see cref="TrainingFailed"/>, then OnError.
    /// </summary>
    /// <param name="config">The run.</param>
    /// <param name="folder">Where checkpoints go.</param>
    /// <param name="resume">Continue from the folder's last checkpoint.</param>
    /// <param name="stop">Also stops the run after the current step (e.g. on Ctrl+C), still emitting <see cref="TrainingFinished"/>.</param>
    public static IObservable<TrainingEvent> Observe(TrainingConfig config, RunFolder folder, bool resume = false, CancellationToken stop = default) =>
        Observable.Create<TrainingEvent>((observer, token) => Task.Run(() =>
        {
            var clock = Stopwatch.StartNew();
            using var either = CancellationTokenSource.CreateLinkedTokenSource(token, stop);
            try
            {
                foreach (var e in Run(config, folder, resume, either.Token)) observer.OnNext(e);
                observer.OnCompleted();
            }
            catch (Exception ex)
            {
                // libtorch appends its C++ stack to the message: the first line is the error.
                observer.OnNext(new TrainingFailed(clock.Elapsed, ex.Message.Split('\n')[0].Trim()));
                observer.OnError(ex);
            }
        }, CancellationToken.None));

    /// <summary>One optimiser step on one batch; returns its loss.</summary>
    private static double TrainStep(HmmRnnModel model, optim.Optimizer optimizer, TrainingData data, long[] batch,
        Generator generator, SinkhornOptions sinkhorn, TrainingConfig config)
    {
        using var scope = NewDisposeScope();
        var target = data.Train.index_select(0, tensor(batch, device: data.Train.device));
        return Step(model, optimizer, target, data.Length, generator, sinkhorn, config);
    }

    /// <summary>
    /// The training step itself (noise → RNN → hard Gumbel-softmax → Sinkhorn divergence → Adam with
    /// clipping) against one-hot targets [B, T·V]; returns the loss. Shared by the trainer and <c>bench train</c>.
    /// </summary>
    internal static double Step(HmmRnnModel model, optim.Optimizer optimizer, Tensor target, int length,
        Generator? generator, SinkhornOptions sinkhorn, TrainingConfig config)
    {
        using var scope = NewDisposeScope();
        var n = target.shape[0];
        var outputs = model.Emit(n, length, config.Temperature, generator).reshape(n, -1);
        var loss = SinkhornLoss.Divergence(outputs, target, sinkhorn);
        optimizer.zero_grad();
        loss.backward();
        nn.utils.clip_grad_norm_(model.parameters(), config.EffectiveGradClip);
        optimizer.step();
        return loss.ToDouble();
    }

    /// <summary>Sinkhorn divergence between the validation set (up to one batch) and as many generated sequences, on fixed noise.</summary>
    private static double ValidationLoss(HmmRnnModel model, TrainingData data, SinkhornOptions sinkhorn, TrainingConfig config, Device device)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var generator = new Generator(EpochSeed(config.Seed, -1), device);
        var n = data.Validation.shape[0];
        var outputs = model.Emit(n, data.Length, config.Temperature, generator).reshape(n, -1);
        return SinkhornLoss.Divergence(outputs, data.Validation, sinkhorn).ToDouble();
    }

    private static ulong EpochSeed(long seed, int epoch) => Rng.FromSeed(seed).Substream(epoch + 2).NextUInt64().Value >> 1;

    private static long[] Permutation(int n, Rng rng)
    {
        var p = new long[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            (var j, rng) = rng.NextInt(i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }
}

/// <summary>The run's HMM sequences as one-hot tensors on the device: train and validation (one batch at most).</summary>
internal sealed class TrainingData
{
    private TrainingData(Tensor train, Tensor validation, int length, int symbols)
        => (Train, Validation, Length, Symbols) = (train, validation, length, symbols);

    public Tensor Train { get; }
    public Tensor Validation { get; }
    public int Length { get; }
    public int Symbols { get; }
    public int TrainCount => (int)Train.shape[0];

    /// <summary>
    /// The run's three splits of the catalogue model's sequences (paper: 10,000 each) come from three
    /// independent streams of the run's seed: the trainer uses train and validation, the evaluation the
    /// test split, and none depends on the others' sizes.
    /// </summary>
    private static (Rng Train, Rng Validation, Rng Test) SplitStreams(TrainingConfig config)
    {
        var (train, rest) = Rng.FromSeed(config.Seed).Substream(1).Split();
        var (validation, test) = rest.Split();
        return (train, validation, test);
    }

    /// <summary>The held-out test split (what the evaluation compares with); never trained on.</summary>
    public static HmmSample TestSplit(TrainingConfig config) =>
        HmmSampling.Sample(config.Entry.Hmm, config.TestSequences, config.Entry.SequenceLength, SplitStreams(config).Test);

    /// <summary>Train and validation splits as one-hot tensors on <paramref name="device"/>.</summary>
    public static TrainingData Create(TrainingConfig config, Device device)
    {
        var entry = config.Entry;
        var streams = SplitStreams(config);
        int T = entry.SequenceLength, V = entry.Hmm.Symbols;
        var train = HmmSampling.Sample(entry.Hmm, config.TrainSequences, T, streams.Train);
        var validation = HmmSampling.Sample(entry.Hmm, Math.Min(config.ValidationSequences, config.Batch), T, streams.Validation);
        return new TrainingData(OneHot(train, V).to(device), OneHot(validation, V).to(device), T, V);
    }

    /// <summary>[N, T·V] float32: the one-hot rows of each sequence, flattened (the paper's points in R^(3T)).</summary>
    public static Tensor OneHot(HmmSample sample, int symbols)
    {
        var data = new float[sample.Count * sample.Length * symbols];
        for (int n = 0; n < sample.Count; n++)
            for (int t = 0; t < sample.Length; t++)
                data[(n * sample.Length + t) * symbols + sample.Outputs[n][t]] = 1f;
        return tensor(data, [sample.Count, sample.Length * symbols]);
    }
}
