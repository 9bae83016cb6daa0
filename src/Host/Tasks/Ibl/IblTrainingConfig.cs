using System.Text.Json;
using System.Text.Json.Serialization;
using HmmRnn.Core.Ibl;
using HmmRnn.Host.Output;
using HmmRnn.Host.Training;

namespace HmmRnn.Host.Tasks.Ibl;

/// <summary>What the IBL network is trained to minimise, on every observation step, against the trial's stimulus side.</summary>
public enum IblLoss
{
    /// <summary>The paper's cross-entropy, −log p(correct side) (Schaeffer et al. 2020, §3.1).</summary>
    Paper,
    /// <summary>
    /// The reference code's loss: <c>NLLLoss</c> applied to probabilities, i.e. −p(correct side). It rewards
    /// confident early actions; it is the loss under which the paper's behavioural numbers appear.
    /// </summary>
    Reference,
}

/// <summary>The optimiser.</summary>
public enum IblOptimizer
{
    /// <summary>Adam (β = 0.9, 0.999).</summary>
    Adam,
    /// <summary>SGD with momentum (the reference code: lr 1e-3, momentum 0.1).</summary>
    Sgd,
}

/// <summary>
/// Everything that defines a training run of the tanh RNN on the IBL task (Schaeffer et al. 2020;
/// SPEC B2). Many sessions run in lockstep with the network (closed loop: an action ends the trial);
/// each optimiser step back-propagates through <see cref="Truncation"/> steps, or, with 0, through
/// whole sessions of <see cref="BlocksPerSession"/> blocks (the reference code). Start from
/// <see cref="Preset"/>; <see cref="Check"/> names a bad field.
/// </summary>
public sealed record IblTrainingConfig : ITaskConfig
{
    /// <inheritdoc />
    [JsonIgnore]
    public string Task => "ibl";
    /// <summary>The preset the other values came from (for the record).</summary>
    public string PresetName { get; init; } = "quick";
    /// <summary>The task variant: "paper" (§2.1) or "reference" (the reference code's).</summary>
    public string TaskVariant { get; init; } = "paper";
    /// <summary>Hidden units (paper 50).</summary>
    public int Hidden { get; init; } = 50;
    /// <summary>The loss.</summary>
    public IblLoss Loss { get; init; } = IblLoss.Paper;
    /// <summary>The optimiser.</summary>
    public IblOptimizer Optimizer { get; init; } = IblOptimizer.Adam;
    /// <summary>Learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>SGD momentum (reference 0.1; unused by Adam).</summary>
    public double Momentum { get; init; } = 0.1;
    /// <summary>Gradient-norm clip; null for none (the reference code clips nothing).</summary>
    public double? GradClip { get; init; }
    /// <summary>Sessions played in lockstep: the batch.</summary>
    public int Sessions { get; init; } = 1;
    /// <summary>Steps back-propagated through per optimiser step, the hidden state carried on (detached); 0: whole sessions.</summary>
    public int Truncation { get; init; }
    /// <summary>With <see cref="Truncation"/> = 0: blocks in each session (reference 4); a fresh session (h = 0) for every optimiser step.</summary>
    public int BlocksPerSession { get; init; } = 4;
    /// <summary>Optimiser steps per epoch (validation and checkpoints after each epoch).</summary>
    public int StepsPerEpoch { get; init; } = 1000;
    /// <summary>Epochs.</summary>
    public int Epochs { get; init; } = 101;
    /// <summary>Validation: independent sessions played by the network after each epoch.</summary>
    public int ValidationSessions { get; init; } = 8;
    /// <summary>Validation: trials in each.</summary>
    public int ValidationTrials { get; init; } = 500;
    /// <summary>Seed of the weights and every session.</summary>
    public long Seed { get; init; }
    /// <summary>cpu or cuda.</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>Emit a batch event every this many steps.</summary>
    public int LogEvery { get; init; } = 10;

    /// <summary>The presets.</summary>
    public static IReadOnlyList<string> Presets { get; } = ["quick", "paper"];

    /// <summary>
    /// paper: the reference code's recipe (SGD lr 1e-3, momentum 0.1, one session of 4 blocks per step,
    /// whole-session back-propagation, 101 × 1000 = 101,000 steps, float64) with the paper's loss.
    /// quick: about a minute on a laptop CPU — 64 sessions in lockstep, truncation 50 steps, Adam 1e-3, 40 × 50
    /// steps, validation on 16 × 500 trials, the reference loss (measured: it, not the paper's stated loss,
    /// gives the paper's behaviour; tuned on seed 0 — docs/ibl-rnn.md).
    /// </summary>
    public static IblTrainingConfig Preset(string preset) => preset switch
    {
        "paper" => new IblTrainingConfig
        {
            PresetName = "paper", Optimizer = IblOptimizer.Sgd, LearningRate = 1e-3, Momentum = 0.1, Sessions = 1, Truncation = 0,
            BlocksPerSession = 4, StepsPerEpoch = 1000, Epochs = 101,
        },
        "quick" => new IblTrainingConfig
        {
            PresetName = "quick", Loss = IblLoss.Reference, Optimizer = IblOptimizer.Adam, LearningRate = 1e-3, Sessions = 64,
            Truncation = 50, StepsPerEpoch = 50, Epochs = 40, GradClip = 1.0, ValidationSessions = 16,
        },
        _ => throw new ArgumentException($"Preset: unknown preset '{preset}'; known: {string.Join(", ", Presets)}", nameof(preset)),
    };

    /// <summary>The task the sessions follow.</summary>
    [JsonIgnore]
    public IblTaskConfig Environment => TaskVariant switch
    {
        "paper" => IblTaskConfig.Paper,
        "reference" => IblTaskConfig.ReferenceCode,
        _ => throw new ValidationException(Core.Violation.Of(nameof(TaskVariant), TaskVariant, "must be paper or reference")),
    };

    /// <inheritdoc />
    [JsonIgnore]
    public string TaskMetric => "accuracy";

    /// <inheritdoc />
    public string Describe() =>
        $"IBL ({PresetName}): {Hidden} tanh units, loss {Loss.ToString().ToLowerInvariant()}, {Optimizer.ToString().ToLowerInvariant()} lr {LearningRate}, " +
        $"{Sessions} session(s) a step, " + (Truncation > 0 ? $"truncation {Truncation} steps" : $"whole sessions of {BlocksPerSession} blocks") +
        $", {Epochs} × {StepsPerEpoch} steps, seed {Seed}";

    /// <inheritdoc />
    public void Check()
    {
        _ = Environment;
        if (Hidden <= 0) ConfigRules.Fail(nameof(Hidden), Hidden, "must be > 0");
        if (!Enum.IsDefined(Loss)) ConfigRules.Fail(nameof(Loss), Loss, "must be paper or reference");
        if (!Enum.IsDefined(Optimizer)) ConfigRules.Fail(nameof(Optimizer), Optimizer, "must be adam or sgd");
        if (!(LearningRate > 0 && double.IsFinite(LearningRate))) ConfigRules.Fail(nameof(LearningRate), LearningRate, "must be finite and > 0");
        if (!(Momentum >= 0 && Momentum < 1)) ConfigRules.Fail(nameof(Momentum), Momentum, "must be in [0, 1)");
        if (GradClip is double c && !(c > 0 && double.IsFinite(c))) ConfigRules.Fail(nameof(GradClip), c, "must be finite and > 0");
        if (Sessions < 1) ConfigRules.Fail(nameof(Sessions), Sessions, "must be ≥ 1");
        if (Truncation < 0) ConfigRules.Fail(nameof(Truncation), Truncation, "must be ≥ 0 (0: whole sessions)");
        if (Truncation == 0 && BlocksPerSession < 1) ConfigRules.Fail(nameof(BlocksPerSession), BlocksPerSession, "must be ≥ 1");
        if (StepsPerEpoch < 1) ConfigRules.Fail(nameof(StepsPerEpoch), StepsPerEpoch, "must be ≥ 1");
        if (ValidationSessions < 1) ConfigRules.Fail(nameof(ValidationSessions), ValidationSessions, "must be ≥ 1");
        if (ValidationTrials < 1) ConfigRules.Fail(nameof(ValidationTrials), ValidationTrials, "must be ≥ 1");
        ConfigRules.CheckLoop(this);
    }

    /// <inheritdoc />
    public ITrainingTask Create(TorchSharp.torch.Device device)
    {
        Check();
        return new IblTask(this, device);
    }

    /// <inheritdoc />
    public string Hash() => RunConfig.HashOf(this with { Epochs = 0, LogEvery = 0 });
}
