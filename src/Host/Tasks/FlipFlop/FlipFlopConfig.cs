using System.Text.Json.Serialization;
using HmmRnn.Host.Training;

namespace HmmRnn.Host.Tasks.FlipFlop;

/// <summary>
/// A training run of a tanh RNN on the 3-bit flip-flop task (Sussillo and Barak 2013): sparse ±1 pulses on
/// <see cref="Channels"/> inputs, a linear readout that must hold the sign of each channel's last pulse; mean squared
/// error, Adam. Fresh sequences every step (drawn from the seed, the epoch and the step). Start from <see cref="Preset"/>.
/// </summary>
public sealed record FlipFlopConfig : ITaskConfig
{
    /// <inheritdoc />
    [JsonIgnore]
    public string Task => "flipflop";
    /// <summary>The preset the other values came from (for the record).</summary>
    public string PresetName { get; init; } = "quick";
    /// <summary>Input channels = outputs = bits held (3: eight memory states).</summary>
    public int Channels { get; init; } = 3;
    /// <summary>Hidden tanh units.</summary>
    public int Hidden { get; init; } = 64;
    /// <summary>T, steps per training sequence.</summary>
    public int SequenceLength { get; init; } = 100;
    /// <summary>Probability that a channel pulses at a step (after step 0, where every channel pulses).</summary>
    public double PulseProbability { get; init; } = 0.05;
    /// <summary>Sequences per optimiser step.</summary>
    public int Batch { get; init; } = 64;
    /// <summary>Adam learning rate.</summary>
    public double LearningRate { get; init; } = 3e-3;
    /// <summary>Gradient-norm clip.</summary>
    public double GradClip { get; init; } = 1.0;
    /// <summary>Optimiser steps per epoch.</summary>
    public int StepsPerEpoch { get; init; } = 50;
    /// <summary>Epochs.</summary>
    public int Epochs { get; init; } = 20;
    /// <summary>Fixed validation sequences, scored after each epoch.</summary>
    public int ValidationSequences { get; init; } = 128;
    /// <summary>Seed of the weights and every sequence.</summary>
    public long Seed { get; init; }
    /// <summary>cpu or cuda.</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>Emit a batch event every this many steps.</summary>
    public int LogEvery { get; init; } = 10;

    /// <summary>The presets.</summary>
    public static IReadOnlyList<string> Presets { get; } = ["quick"];

    /// <summary>quick: 64 units, T = 100, pulses at 5% a step, batch 64, Adam 3e-3, 20 × 50 steps (a minute or two on 2 cores).</summary>
    /// <exception cref="ArgumentException">an unknown preset.</exception>
    public static FlipFlopConfig Preset(string preset) => preset switch
    {
        "quick" => new FlipFlopConfig(),
        _ => throw new ArgumentException($"unknown preset '{preset}'; known: {string.Join(", ", Presets)}", nameof(preset)),
    };

    /// <inheritdoc />
    [System.Text.Json.Serialization.JsonIgnore]
    public string TaskMetric => "accuracy";

    /// <inheritdoc />
    public string Describe() =>
        $"flip-flop ({PresetName}): {Hidden} tanh units, {Channels} channels, T = {SequenceLength}, pulses {PulseProbability} a step, batch {Batch}, " +
        $"Adam lr {LearningRate}, {Epochs} × {StepsPerEpoch} steps, seed {Seed}";

    /// <inheritdoc />
    public void Check()
    {
        if (Channels < 1) ConfigRules.Fail(nameof(Channels), Channels, "must be ≥ 1");
        if (Hidden <= 0) ConfigRules.Fail(nameof(Hidden), Hidden, "must be > 0");
        if (SequenceLength < 2) ConfigRules.Fail(nameof(SequenceLength), SequenceLength, "must be ≥ 2");
        if (!(PulseProbability > 0 && PulseProbability <= 1)) ConfigRules.Fail(nameof(PulseProbability), PulseProbability, "must be in (0, 1]");
        if (Batch < 1) ConfigRules.Fail(nameof(Batch), Batch, "must be ≥ 1");
        if (!(LearningRate > 0 && double.IsFinite(LearningRate))) ConfigRules.Fail(nameof(LearningRate), LearningRate, "must be finite and > 0");
        if (!(GradClip > 0 && double.IsFinite(GradClip))) ConfigRules.Fail(nameof(GradClip), GradClip, "must be finite and > 0");
        if (StepsPerEpoch < 1) ConfigRules.Fail(nameof(StepsPerEpoch), StepsPerEpoch, "must be ≥ 1");
        if (ValidationSequences < 1) ConfigRules.Fail(nameof(ValidationSequences), ValidationSequences, "must be ≥ 1");
        ConfigRules.CheckLoop(this);
    }

    /// <inheritdoc />
    public ITrainingTask Create(TorchSharp.torch.Device device)
    {
        Check();
        return new FlipFlopTask(this, device);
    }

    /// <inheritdoc />
    public string Hash() => RunConfig.HashOf(this with { Epochs = 0, LogEvery = 0 });
}
