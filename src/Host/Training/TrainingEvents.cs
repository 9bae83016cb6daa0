namespace HmmRnn.Host.Training;

/// <summary>What a training run reports, in order: started, batches and epochs (with checkpoints), then finished or failed.</summary>
public abstract record TrainingEvent(TimeSpan Elapsed);

/// <summary>The run began (or resumed at <paramref name="StartEpoch"/>).</summary>
public sealed record TrainingStarted(TimeSpan Elapsed, ITaskConfig Config, long Parameters, int StartEpoch, int StepsPerEpoch, string Device) : TrainingEvent(Elapsed)
{
    /// <summary>What the user should know before the run goes on (a resume on other matrix kernels), or null.</summary>
    public string? Warning { get; init; }
}

/// <summary>A logged training step (every <see cref="ITaskConfig.LogEvery"/> steps).</summary>
public sealed record BatchCompleted(TimeSpan Elapsed, int Epoch, int Step, double Loss) : TrainingEvent(Elapsed);

/// <summary>
/// An epoch ended: mean training loss over its steps, validation loss, whether it is the best so far by the
/// task's selection score (<see cref="Validation.Score"/>; the validation loss unless the task says otherwise),
/// and the process's resident memory (to show it stays flat; TorchSharp 0.107 exposes no CUDA allocator statistics).
/// </summary>
public sealed record EpochCompleted(TimeSpan Elapsed, int Epoch, double TrainLoss, double ValidationLoss, bool IsBest, double BestScore, int BestEpoch,
    long ResidentBytes = 0) : TrainingEvent(Elapsed)
{
    /// <summary>The task's other validation numbers (e.g. accuracy), by name.</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();

    /// <summary>What <see cref="ValidationLoss"/> is (<see cref="Validation.LossName"/>).</summary>
    public string ValidationLossName { get; init; } = "loss";

    /// <summary>
    /// Steps of this epoch whose loss (or gradient) was not finite and that changed nothing (<see cref="OptimizerSteps.Take"/>);
    /// <see cref="TrainLoss"/> is the mean over the other steps.
    /// </summary>
    public int SkippedSteps { get; init; }
}

/// <summary>
/// A run of steps whose loss was not finite (<see cref="Trainer.SkipLimit"/> in a row) sent the run back to its best checkpoint:
/// in epoch <paramref name="Epoch"/> at step <paramref name="Step"/> (<paramref name="Reason"/>) the weights and the optimiser of
/// epoch <paramref name="ToEpoch"/> were reloaded and the learning rate now runs at <paramref name="LearningRateScale"/> × the
/// schedule's; rollback number <paramref name="Count"/> of <see cref="Trainer.MaxRollbacks"/>. The rest of the epoch's batches are left.
/// </summary>
public sealed record RolledBack(TimeSpan Elapsed, int Epoch, int Step, string Reason, int ToEpoch, double LearningRateScale, int Count) : TrainingEvent(Elapsed);

/// <summary>A checkpoint file was written (atomically).</summary>
public sealed record CheckpointSaved(TimeSpan Elapsed, int Epoch, string Path, bool IsBest) : TrainingEvent(Elapsed);

/// <summary>The run ended normally or by cancellation (after a whole step; the last checkpoint is valid).</summary>
public sealed record TrainingFinished(TimeSpan Elapsed, int EpochsCompleted, int BestEpoch, double BestScore, bool Cancelled) : TrainingEvent(Elapsed);

/// <summary>The run stopped on an error: <paramref name="Error"/> is its first line (what the console prints).</summary>
public sealed record TrainingFailed(TimeSpan Elapsed, string Error) : TrainingEvent(Elapsed)
{
    /// <summary>
    /// The whole exception — libtorch's C++ context and the .NET stack — for events.jsonl: a rare failure that does not
    /// recur when the run is repeated (seen once, "Expected false to be true", docs/hmm-training.md) can only be traced
    /// from what the failing run wrote.
    /// </summary>
    public string? Detail { get; init; }
}

/// <summary>
/// A training stopped because its numbers stopped being finite (a step's loss, the weights, or a NaN validation): the run fails
/// (<see cref="TrainingFailed"/>, exit 1) with this one-line message. Nothing of the diverged epoch is saved: the best checkpoint
/// and the last one hold finite weights of earlier epochs.
/// </summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Diverged in epoch <paramref name="epoch"/> (from 1) because <paramref name="what"/>; the best checkpoint is of <paramref name="bestEpoch"/> (0: none), the last of <paramref name="lastEpoch"/>.</summary>
    public TrainingDivergedException(int epoch, string what, int bestEpoch, int lastEpoch)
        : base($"diverged at epoch {epoch}: {what}; " +
               (bestEpoch > 0 ? $"the last finite best checkpoint is kept ({Trainer.BestCheckpoint}, epoch {bestEpoch})" : "no best checkpoint was written") +
               $", {Trainer.LastCheckpoint} holds epoch {lastEpoch}; the learning rate (or the initial weights) may be too large") => (Epoch, BestEpoch) = (epoch, bestEpoch);

    /// <summary>The epoch (from 1) in which the numbers stopped being finite.</summary>
    public int Epoch { get; }

    /// <summary>The epoch of the best checkpoint kept (0: none).</summary>
    public int BestEpoch { get; }
}
