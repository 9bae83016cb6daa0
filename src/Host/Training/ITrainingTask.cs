using System.Text.Json.Serialization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HmmRnn.Host.Training;

/// <summary>
/// Everything that defines one training run of some task. The loop (<see cref="Trainer"/>) reads only
/// what is here; each task brings its own fields, model, loss, data and evaluation. In JSON (config.json) a
/// configuration carries its "task" discriminator; the task registry supplies the types (the loop knows none).
/// </summary>
public interface ITaskConfig
{
    /// <summary>The task's name, as written in config.json (its JSON discriminator).</summary>
    [JsonIgnore] string Task { get; }
    /// <summary>Seed of everything the run draws.</summary>
    long Seed { get; }
    /// <summary>Epochs to train.</summary>
    int Epochs { get; }
    /// <summary>Emit a batch event (and read the loss back from the device) every this many steps.</summary>
    int LogEvery { get; }
    /// <summary>cpu or cuda.</summary>
    string Device { get; }
    /// <summary>One line for progress output: the task, the preset, the sizes.</summary>
    string Describe();
    /// <summary>The validation metric a reader of metrics.csv looks for first (a key of <see cref="Validation.Metrics"/>: the transition error, IBL accuracy).</summary>
    [JsonIgnore] string TaskMetric { get; }
    /// <summary>A hash of everything that changes the trained weights (not the epoch count or logging): resume refuses a checkpoint of another hash.</summary>
    string Hash();
    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad field and its value.</summary>
    void Check();
    /// <summary>Builds data, model (seeded) and optimiser on <paramref name="device"/>.</summary>
    ITrainingTask Create(Device device);
}

/// <summary>A task's validation after an epoch: a loss, named metrics, and the score that picks the best checkpoint.</summary>
/// <param name="Loss">The validation loss (the training objective on validation data).</param>
/// <param name="Metrics">Other numbers worth logging (e.g. accuracy), by name.</param>
public sealed record Validation(double Loss, IReadOnlyDictionary<string, double> Metrics)
{
    private readonly double? score;

    /// <summary>Lower is better: picks the best checkpoint. The loss unless the task selects by another measure.</summary>
    public double Score { get => score ?? Loss; init => score = value; }

    /// <summary>What <see cref="Loss"/> is, for logs and TensorBoard tags: "loss" unless the task says otherwise (IBL: "error_rate", 1 − accuracy).</summary>
    public string LossName { get; init; } = "loss";

    /// <summary>A validation with a loss alone.</summary>
    public static Validation Of(double loss) => new(loss, new Dictionary<string, double>());
}

/// <summary>A task's model and optimiser and how to take its steps; the loop owns epochs, checkpoints, resume and events.</summary>
public interface ITrainingTask : IDisposable
{
    /// <summary>The trained module (saved in checkpoints).</summary>
    nn.Module Model { get; }
    /// <summary>Its optimiser (saved in checkpoints).</summary>
    OptimizerHelper Optimizer { get; }
    /// <summary>Optimiser steps in one epoch.</summary>
    int StepsPerEpoch { get; }
    /// <summary>
    /// A factor on every learning rate the task sets (its schedule's, warm-up included), in force from the next step: 1 until the
    /// loop rolls back to the best checkpoint after a run of non-finite steps and halves it (<see cref="Trainer.MaxRollbacks"/>).
    /// </summary>
    double LearningRateScale { get; set; }
    /// <summary>
    /// Prepares epoch <paramref name="epoch"/> (from 0). Everything it draws must follow from the seed and
    /// the epoch alone, so that a run resumed at an epoch boundary repeats the uninterrupted one.
    /// </summary>
    ITrainingEpoch BeginEpoch(int epoch);
    /// <summary>Measures the model on the task's validation data (no gradients).</summary>
    Validation Validate();
}

/// <summary>One epoch's state (its noise, its sessions); disposed when the epoch ends.</summary>
public interface ITrainingEpoch : IDisposable
{
    /// <summary>One optimiser step; returns its loss.</summary>
    double Step(int step);
}
