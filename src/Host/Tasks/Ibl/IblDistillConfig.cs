using System.Text.Json.Serialization;
using HmmRnn.Host.Output;
using HmmRnn.Host.Training;

namespace HmmRnn.Host.Tasks.Ibl;

/// <summary>
/// Conventional output distillation (Schaeffer et al. 2020, §3.3.2, the baseline RADD is compared with):
/// a small tanh RNN trained by gradient descent to reproduce a trained IBL network's action probabilities
/// on the teacher's own inputs. Recorded teacher sessions are the data; the student is scored by playing
/// the task itself. Runs in the shared training loop like every task.
/// </summary>
public sealed record IblDistillConfig : ITaskConfig
{
    /// <inheritdoc />
    [JsonIgnore]
    public string Task => "ibl-distill";
    /// <summary>The teacher: a run folder written by <c>ibl train</c> (its best checkpoint, else its last).</summary>
    public string Teacher { get; init; } = "";
    /// <summary>Student units (paper's comparison: 2).</summary>
    public int Hidden { get; init; } = 2;
    /// <summary>Teacher sessions recorded as data.</summary>
    public int Sessions { get; init; } = 16;
    /// <summary>Steps of each recorded session (the student runs through them whole).</summary>
    public int Steps { get; init; } = 1000;
    /// <summary>Adam learning rate.</summary>
    public double LearningRate { get; init; } = 1e-2;
    /// <summary>Optimiser steps per epoch.</summary>
    public int StepsPerEpoch { get; init; } = 20;
    /// <summary>Epochs.</summary>
    public int Epochs { get; init; } = 15;
    /// <summary>Validation: sessions the student plays after each epoch.</summary>
    public int ValidationSessions { get; init; } = 8;
    /// <summary>Validation: trials per session.</summary>
    public int ValidationTrials { get; init; } = 500;
    /// <summary>Seed of the student's weights and the recorded sessions.</summary>
    public long Seed { get; init; }
    /// <summary>cpu or cuda.</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>Emit a batch event every this many steps.</summary>
    public int LogEvery { get; init; } = 5;

    /// <inheritdoc />
    [JsonIgnore]
    public string TaskMetric => "accuracy";

    /// <inheritdoc />
    public string Describe() =>
        $"output distillation of {Teacher} into {Hidden} tanh units: {Sessions} recorded sessions × {Steps} steps, Adam lr {LearningRate}, {Epochs} × {StepsPerEpoch} steps, seed {Seed}";

    /// <inheritdoc />
    public void Check()
    {
        if (string.IsNullOrWhiteSpace(Teacher)) ConfigRules.Fail(nameof(Teacher), Teacher, "must name the teacher's run folder");
        if (Hidden <= 0) ConfigRules.Fail(nameof(Hidden), Hidden, "must be > 0");
        if (Sessions < 1) ConfigRules.Fail(nameof(Sessions), Sessions, "must be ≥ 1");
        if (Steps < 2) ConfigRules.Fail(nameof(Steps), Steps, "must be ≥ 2");
        if (!(LearningRate > 0 && double.IsFinite(LearningRate))) ConfigRules.Fail(nameof(LearningRate), LearningRate, "must be finite and > 0");
        if (StepsPerEpoch < 1) ConfigRules.Fail(nameof(StepsPerEpoch), StepsPerEpoch, "must be ≥ 1");
        if (ValidationSessions < 1) ConfigRules.Fail(nameof(ValidationSessions), ValidationSessions, "must be ≥ 1");
        if (ValidationTrials < 1) ConfigRules.Fail(nameof(ValidationTrials), ValidationTrials, "must be ≥ 1");
        ConfigRules.CheckLoop(this);
    }

    /// <inheritdoc />
    public ITrainingTask Create(TorchSharp.torch.Device device)
    {
        Check();
        return new IblDistillTask(this, device);
    }

    /// <inheritdoc />
    public string Hash() => RunConfig.HashOf(this with { Epochs = 0, LogEvery = 0 });
}
