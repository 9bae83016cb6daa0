using System.Collections.Immutable;
using HmmRnn.Core;
using HmmRnn.Core.Rnn;

namespace HmmRnn.Analysis;

/// <summary>Sizes of <see cref="HmmNetworkAnalysis.Run"/>'s noisy run and autonomous probes.</summary>
/// <param name="Steps">Steps of the noisy run kept (reference: 5,000 for the 2-state model, 10,000 otherwise); null picks by the HMM.</param>
/// <param name="WarmUp">Steps discarded first (reference 20).</param>
/// <param name="Sigma">The input noise's standard deviation (training: 1).</param>
/// <param name="DecayStarts">States of the run from which the noise-free dynamics are followed.</param>
/// <param name="DecaySteps">Noise-free steps followed (reference 500).</param>
public sealed record HmmAnalysisOptions(int? Steps = null, int WarmUp = 20, double Sigma = 1, int DecayStarts = 100, int DecaySteps = 500)
{
    /// <summary>The reference analysis's sizes.</summary>
    public static HmmAnalysisOptions Default { get; } = new();

    /// <summary>Throws naming the first bad field; returns this.</summary>
    public HmmAnalysisOptions Validate()
    {
        static void Fail(string field, object? value, string rule) => throw new ArgumentException($"{field} = {value}: {rule}", field);
        if (Steps is int s && s < 10) Fail(nameof(Steps), s, "must be ≥ 10");
        if (WarmUp < 0) Fail(nameof(WarmUp), WarmUp, "must be ≥ 0");
        if (!(Sigma >= 0 && double.IsFinite(Sigma))) Fail(nameof(Sigma), Sigma, "must be finite and ≥ 0");
        if (DecayStarts < 1) Fail(nameof(DecayStarts), DecayStarts, "must be ≥ 1");
        if (DecaySteps < 1) Fail(nameof(DecaySteps), DecaySteps, "must be ≥ 1");
        return this;
    }
}

/// <summary>What the network does once the noise is switched off (the paper: activity collapses to a single fixed point).</summary>
/// <param name="Starts">States of the noisy run followed without noise.</param>
/// <param name="CollapsedToOrigin">Starts whose state fell below 1e-6 of its starting norm within the steps followed.</param>
/// <param name="MedianDecaySteps">Median steps until the norm fell below 1% of the start (NaN if fewer than half did).</param>
/// <param name="MaxFinalNorm">The largest norm at the end of the noise-free steps.</param>
public sealed record NoiseFreeDecay(int Starts, int CollapsedToOrigin, double MedianDecaySteps, double MaxFinalNorm);

/// <summary>The pure part of opening up an HMM-emulating ReLU RNN (Torre et al. 2025, SPEC A5).</summary>
/// <param name="Steps">States in the noisy run (after warm-up).</param>
/// <param name="Pca">PCA of those states.</param>
/// <param name="ReadoutAnglesToPlane">Per readout row, the angle (degrees) between it and the PC1–PC2 plane.</param>
/// <param name="Decay">Noise-free dynamics from states of the run.</param>
/// <param name="RunSymbols">The argmax symbol of each step of the noisy run (for figures).</param>
/// <param name="Kicks">Kick units found from the noisy run.</param>
/// <param name="KickAblation">Silencing the kick units against random sets of as many units (null when none were found).</param>
public sealed record HmmNetworkReport(int Steps, PcaResult Pca, ImmutableArray<double> ReadoutAnglesToPlane, NoiseFreeDecay Decay,
    ImmutableArray<int> RunSymbols, Dynamics.KickDetection Kicks, Dynamics.AblationResult? KickAblation)
{
    /// <summary>The noisy run's states (not serialised).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public ImmutableArray<ImmutableArray<double>> States { get; init; } = [];
}

/// <summary>Opens up a trained HMM-emulating ReLU RNN on plain arrays: a long noisy run, its PCA, the readout geometry, and what happens without noise.</summary>
public static class HmmNetworkAnalysis
{
    /// <summary>Runs the analyses on <paramref name="weights"/>, which emulate an HMM with <paramref name="hmmStates"/> states.</summary>
    public static HmmNetworkReport Run(ReluRnnWeights weights, int hmmStates, Rng rng, HmmAnalysisOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        options = (options ?? HmmAnalysisOptions.Default).Validate();
        int steps = options.Steps ?? (hmmStates == 2 ? 5_000 : 10_000), total = steps + options.WarmUp, H = weights.Hidden, D = weights.Input;
        var noise = new double[total * D];
        rng.Substream(0).FillNormal(noise);
        for (int i = 0; i < noise.Length; i++) noise[i] *= options.Sigma;
        var run = ReluRnn.Run(weights, noise);
        var states = Enumerable.Range(options.WarmUp, steps).Select(t => ImmutableArray.Create(run.Hidden.AsSpan(t * H, H).ToArray())).ToImmutableArray();
        var symbols = Enumerable.Range(options.WarmUp, steps).Select(t => ArgMax(run.Logits.AsSpan(t * weights.Outputs, weights.Outputs))).ToImmutableArray();
        var pca = Pca.Fit(states);
        var plane = pca.Components.Take(2).ToArray();
        var angles = Enumerable.Range(0, weights.Outputs).Select(o =>
        {
            var row = weights.Readout.AsSpan(o * H, H).ToArray().Select(x => (double)x).ToArray();
            return Math.Acos(Math.Clamp(Math.Sqrt(Geometry.ShareInSubspace(row, plane)), 0, 1)) * 180 / Math.PI;
        }).ToImmutableArray();
        var kicks = Dynamics.KickUnits.Detect(weights, states, symbols);
        var ablation = kicks.Units.IsEmpty ? null : Dynamics.KickUnits.Ablate(weights, kicks.Units, Math.Min(steps, 5_000), options.Sigma, 99, rng.Substream(2));
        return new HmmNetworkReport(steps, pca, angles, Decay(weights, states, options, rng.Substream(1)), symbols, kicks, ablation) { States = states };
    }

    private static NoiseFreeDecay Decay(ReluRnnWeights w, IReadOnlyList<ImmutableArray<double>> states, HmmAnalysisOptions options, Rng rng)
    {
        var zero = new double[w.Input];
        int collapsed = 0;
        var decays = new List<double>();
        double maxFinal = 0;
        for (int k = 0; k < options.DecayStarts; k++)
        {
            (var i, rng) = rng.NextInt(states.Count);
            var h = states[i].ToArray();
            var start = Norm(h);
            int? decay = null;
            for (int t = 1; t <= options.DecaySteps; t++)
            {
                h = ReluRnn.Step(w, h, zero);
                if (decay is null && Norm(h) <= 0.01 * start) decay = t;
            }
            if (decay is int d) decays.Add(d);
            var final = Norm(h);
            if (final <= 1e-6 * Math.Max(start, 1e-300)) collapsed++;
            maxFinal = Math.Max(maxFinal, final);
        }
        decays.Sort();
        var median = decays.Count * 2 >= options.DecayStarts && decays.Count > 0 ? decays[decays.Count / 2] : double.NaN;
        return new NoiseFreeDecay(options.DecayStarts, collapsed, median, maxFinal);
    }

    private static int ArgMax(ReadOnlySpan<double> y)
    {
        int best = 0;
        for (int i = 1; i < y.Length; i++) if (y[i] > y[best]) best = i;
        return best;
    }

    private static double Norm(ReadOnlySpan<double> v)
    {
        double s = 0;
        foreach (var x in v) s += x * x;
        return Math.Sqrt(s);
    }
}
