using HmmRnn.Core;
using HmmRnn.Host.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HmmRnn.Host.Tasks.FlipFlop;

/// <summary>
/// Training the flip-flop network for the shared <see cref="Trainer"/> loop: each step draws a fresh batch (from the
/// seed, the epoch and the step alone, so a resumed run repeats the uninterrupted one) and takes an Adam step on the
/// mean squared error between outputs and targets. Validation: the same error on fixed sequences, and the fraction of
/// outputs whose sign is the target's.
/// </summary>
public sealed class FlipFlopTask : ITrainingTask
{
    private readonly FlipFlopConfig config;
    private readonly FlipFlopModel model;
    private readonly OptimizerHelper optimizer;
    private readonly Device device;
    private readonly TorchThreads threads;
    private readonly FlipFlopBatch validation;

    /// <summary>Seeds torch, builds the network and its optimiser; torch runs on one CPU thread while the task lives.</summary>
    public FlipFlopTask(FlipFlopConfig config, Device device)
    {
        ArgumentNullException.ThrowIfNull(config);
        (this.config, this.device) = (config, device);
        threads = TorchThreads.One(device);
        manual_seed(config.Seed);
        model = new FlipFlopModel(config.Channels, config.Hidden);
        model.to(device);
        optimizer = optim.Adam(model.parameters(), lr: config.LearningRate);
        validation = Draw(config, config.ValidationSequences, ValidationStream(config.Seed));
    }

    /// <summary>The network.</summary>
    public FlipFlopModel Network => model;

    /// <inheritdoc />
    public nn.Module Model => model;

    /// <inheritdoc />
    public OptimizerHelper Optimizer => optimizer;

    /// <inheritdoc />
    public int StepsPerEpoch => config.StepsPerEpoch;

    /// <inheritdoc />
    public double LearningRateScale
    {
        get => learningRateScale;
        set => OptimizerSteps.SetLearningRate(optimizer, config.LearningRate * (learningRateScale = value));
    }

    private double learningRateScale = 1;

    /// <summary>The validation sequences' stream: fixed for a seed, apart from every training batch.</summary>
    public static Rng ValidationStream(long seed) => Rng.FromSeed(seed).Substream(3);

    /// <summary>The stream of training batch <paramref name="step"/> of epoch <paramref name="epoch"/>.</summary>
    public static Rng BatchStream(long seed, int epoch, int step) => Rng.FromSeed(seed).Substream(4).Substream(epoch).Substream(step);

    private static FlipFlopBatch Draw(FlipFlopConfig c, int sequences, Rng rng) =>
        FlipFlopData.Generate(sequences, c.SequenceLength, c.Channels, c.PulseProbability, rng);

    private (Tensor Inputs, Tensor Targets) Tensors(FlipFlopBatch b) =>
        (tensor(b.Inputs, [b.Sequences, b.Length, b.Channels], float64, device), tensor(b.Targets, [b.Sequences, b.Length, b.Channels], float64, device));

    /// <inheritdoc />
    public ITrainingEpoch BeginEpoch(int epoch) => new Epoch(this, epoch);

    /// <inheritdoc />
    public Validation Validate()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var (x, z) = Tensors(validation);
        var y = model.call(x);
        var loss = (y - z).square().mean().ToDouble();
        var accuracy = (y.sign() == z).to(float64).mean().ToDouble();
        return new Validation(loss, new Dictionary<string, double> { ["accuracy"] = accuracy });
    }

    /// <inheritdoc />
    public void Dispose()
    {
        optimizer.Dispose();
        model.Dispose();
        threads.Dispose();
    }

    private sealed class Epoch(FlipFlopTask task, int epoch) : ITrainingEpoch
    {
        public double Step(int step)
        {
            var c = task.config;
            using var scope = NewDisposeScope();
            var (x, z) = task.Tensors(Draw(c, c.Batch, BatchStream(c.Seed, epoch, step)));
            var loss = (task.model.call(x) - z).square().mean();
            return OptimizerSteps.Take(loss, task.optimizer, task.model.parameters(), c.GradClip);
        }

        public void Dispose() { }
    }
}
