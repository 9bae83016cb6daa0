using System.Collections.Immutable;
using System.Text.Json;
using HmmRnn.Core;
using HmmRnn.Core.Rnn;
using HmmRnn.Host.Cli;
using HmmRnn.Host.Experiments;
using HmmRnn.Host.Output;
using HmmRnn.Host.Tasks.FlipFlop;
using HmmRnn.Host.Training;
using static TorchSharp.torch;

namespace HmmRnn.Host.Tests;

/// <summary>The third task, the 3-bit flip-flop (Sussillo and Barak 2013), brought in as one plug-in (issue 18).</summary>
[Collection("torch")]
public sealed class FlipFlopTests : TempFolderTest
{
    [Fact]
    public void The_target_holds_the_sign_of_the_channels_last_pulse()
    {
        // Re-derived here by a plain scan: the last nonzero input at or before t. Red if the target resets to 0 between
        // pulses, holds the first pulse instead of the last, or lags the pulse by a step.
        var b = FlipFlopData.Generate(sequences: 20, length: 60, channels: 3, pulseProbability: 0.1, Rng.FromSeed(7));
        int pulses = 0;
        for (int n = 0; n < b.Sequences; n++)
            for (int c = 0; c < b.Channels; c++)
            {
                double last = double.NaN;
                for (int t = 0; t < b.Length; t++)
                {
                    var x = b.Inputs[(n * b.Length + t) * b.Channels + c];
                    Assert.True(x is 0 or 1 or -1, $"input {x}");
                    if (x != 0) { last = x; pulses++; }
                    Assert.Equal(last, b.Targets[(n * b.Length + t) * b.Channels + c]);
                }
            }
        // Every channel pulses at step 0; then about 10% of the 59 later steps: 60 + 0.1 · 59 · 60 ≈ 414 pulses expected.
        Assert.InRange(pulses, 60 + 250, 60 + 450);

        // By hand, the two extremes: with p = 0 the step-0 pulse is held throughout; with p = 1 the target is the input.
        var still = FlipFlopData.Generate(1, 5, 2, 0, Rng.FromSeed(1));
        for (int t = 0; t < 5; t++)
            for (int c = 0; c < 2; c++)
            {
                Assert.Equal(t == 0 ? still.Inputs[c] : 0, still.Inputs[t * 2 + c]);
                Assert.Equal(still.Inputs[c], still.Targets[t * 2 + c]);
            }
        var busy = FlipFlopData.Generate(1, 5, 2, 1, Rng.FromSeed(1));
        Assert.Equal(busy.Inputs, busy.Targets);
    }

    [Fact]
    public void The_network_is_Cores_tanh_dynamics_with_a_linear_readout()
    {
        // Red if the snapshot keeps one of torch's two biases, or transposes a weight matrix.
        manual_seed(2);
        using var model = new FlipFlopModel(channels: 3, hidden: 10);
        var w = model.Snapshot();
        var b = FlipFlopData.Generate(1, 12, 3, 0.3, Rng.FromSeed(3));
        var reference = TanhRnn.Run(w, new double[10], b.Inputs);
        using var _ = no_grad();
        var y = model.call(tensor(b.Inputs, [1, 12, 3], float64)).data<double>().ToArray();
        for (int i = 0; i < y.Length; i++) Assert.Equal(reference.Logits[i], y[i], 1e-12);
        Assert.Contains(reference.Hidden, x => Math.Abs(x) > 0.1);
    }

    [Fact]
    public void A_short_training_reduces_the_loss()
    {
        // Red if the loss term, its targets or the optimiser step are wrong (the validation error would not fall).
        var config = FlipFlopConfig.Preset("quick") with { Hidden = 32, SequenceLength = 40, Batch = 32, StepsPerEpoch = 25, Epochs = 4, ValidationSequences = 32, Seed = 1 };
        var epochs = Trainer.Run(config, RunFolder.Create(Path.Combine(Root, "run"))).OfType<EpochCompleted>().ToList();
        Assert.Equal(4, epochs.Count);
        Assert.True(epochs[^1].ValidationLoss < 0.6 * epochs[0].ValidationLoss,
            $"validation loss {epochs[0].ValidationLoss} after epoch 1, {epochs[^1].ValidationLoss} after epoch 4");
    }

    [Fact]
    public void A_constructed_network_has_the_cube_of_fixed_points_derived_by_hand()
    {
        // Three uncoupled units h_i ← tanh(2 h_i + 5 x_i), read out one to one. With no input each unit has three fixed
        // points, 0 (derivative 2: unstable) and ±h* with tanh(2h*) = h* (derivative 2(1 − h*²) < 1: stable), so the
        // network has 3³ = 27: the 8 corners (±h*, ±h*, ±h*) are attractors, the 12 points with one zero coordinate are
        // saddles (one unstable direction), 6 have two zeros and the origin three. h* comes from bisection here, not from
        // the code under test. Red if the saddles are not searched for, points are counted twice, or unstable directions
        // are miscounted.
        double lo = 0.5, hi = 1.0;
        for (int k = 0; k < 200; k++) { var mid = (lo + hi) / 2; if (Math.Tanh(2 * mid) > mid) lo = mid; else hi = mid; }
        var hStar = (lo + hi) / 2;
        static ImmutableArray<double> Diagonal(double d) => [d, 0, 0, 0, d, 0, 0, 0, d];
        var w = new TanhRnnWeights(3, 3, 3, Diagonal(2), Diagonal(5), [0, 0, 0], Diagonal(1), [0, 0, 0]);

        var r = FlipFlopAnalysis.Run(w, 0.05, new FlipFlopAnalysisOptions(Sequences: 8, Length: 200, FixedPointStarts: 64, FlowGrid: 5), Rng.FromSeed(4));
        Assert.Equal(8, r.StableFixedPoints);
        Assert.Equal(12, r.Saddles);
        Assert.Equal(7, r.OtherUnstable);
        Assert.Equal(8, r.MemoryStates);
        foreach (var p in r.Points.Where(p => p.UnstableDimensions == 0))
            Assert.All(p.Point.State, h => Assert.Equal(hStar, Math.Abs(h), 1e-9));
        foreach (var p in r.Points.Where(p => p.UnstableDimensions == 1))
            Assert.Equal(1, p.Point.State.Count(h => Math.Abs(h) < 1e-9));
        Assert.True(r.OutputAccuracy > 0.99, $"the constructed network holds its bits: {r.OutputAccuracy}");
    }

    [Fact]
    public void An_experiment_of_the_task_runs_through_the_pipeline_to_its_report()
    {
        // The plug-in end to end: the registry's name in an experiment file, training, the analysis stage, the summary and the report.
        Directory.CreateDirectory(Root);
        var file = Path.Combine(Root, "ff.json");
        File.WriteAllText(file, """
            { "name": "ff", "task": "flipflop", "model": { "hidden": 16 },
              "training": { "sequenceLength": 30, "batch": 16, "stepsPerEpoch": 5, "epochs": 2, "validationSequences": 16 },
              "analysis": { "sequences": 4, "length": 60, "fixedPointStarts": 16, "flowGrid": 5 } }
            """);
        var output = Path.Combine(Root, "out");
        var (code, error) = CliRunner.Run(Commands.Root(), "run", file, "--out", output);
        Assert.True(code == 0, error);
        var summary = JsonSerializer.Deserialize<PointSummary>(File.ReadAllText(Path.Combine(output, "points", "s0", Pipeline.SummaryFile)), RunFolder.Json)!;
        Assert.Contains("stableFixedPoints", summary.Metrics.Keys);
        using var analysis = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "points", "s0", "analysis.json")));
        Assert.Equal(summary.Metrics["stableFixedPoints"], analysis.RootElement.GetProperty("stableFixedPoints").GetInt32());
        Assert.Contains("flow.png", File.ReadAllText(Path.Combine(output, "report.md")));
        Assert.True(File.Exists(Path.Combine(output, "report.html")));
    }
}
