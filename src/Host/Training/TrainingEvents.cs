namespace HmmRnn.Host.Training;

/// <summary>What a training run reports, in order: started, batches and epochs (with checkpoints), then finished or failed.</summary>
public abstract record TrainingEvent(TimeSpan Elapsed);

/// <summary>The run began (or resumed at <paramref name="StartEpoch"/>).</summary>
public sealed record TrainingStarted(TimeSpan Elapsed, ITaskConfig Config, long Parameters, int StartEpoch, int StepsPerEpoch, string Device) : TrainingEvent(Elapsed);

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
}

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
