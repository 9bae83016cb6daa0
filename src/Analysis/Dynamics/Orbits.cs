using System.Collections.Immutable;
using HmmRnn.Analysis.Numerics;
using HmmRnn.Core;
using HmmRnn.Core.Rnn;

namespace HmmRnn.Analysis.Dynamics;

/// <summary>The noisy run's emission probabilities by orbit phase in the PC1–PC2 plane.</summary>
/// <param name="Centers">Each phase bin's centre, radians in (−π, π]; φ = atan2(PC2 score, PC1 score) around the run's mean.</param>
/// <param name="Counts">States of the run per bin.</param>
/// <param name="Emission">Per bin, the mean softmax probability of each symbol (the network samples its output from this distribution); NaN for an empty bin.</param>
/// <param name="MeanRadius">Per bin, the mean distance from the run's mean in the plane.</param>
/// <param name="Modulation">The largest swing of any symbol's probability across the bins holding at least 1% of the states: 0 if emission does not depend on phase, 1 if some symbol is certain in one bin and absent in another.</param>
/// <param name="MeanAngularStep">The mean signed phase step per time step (radians, each step wrapped to (−π, π]): near 0 for back-and-forth motion, ±2π/period for an orbit circulating one way.</param>
/// <param name="Circulation">The fraction of steps whose phase step is positive (0.5: no preferred direction).</param>
public sealed record OrbitPhase(ImmutableArray<double> Centers, ImmutableArray<int> Counts, ImmutableArray<ImmutableArray<double>> Emission,
    ImmutableArray<double> MeanRadius, double Modulation, double MeanAngularStep, double Circulation);

/// <summary>How quickly activity dies once the noise is switched off (the paper's "noise-sustained orbits", as numbers).</summary>
/// <param name="Tolerance">A start has decayed once ‖h_t‖ ≤ this × ‖h_0‖.</param>
/// <param name="Steps">Per start, the first step t with ‖h_t‖ ≤ Tolerance × ‖h_0‖; −1 if it did not happen within the steps followed.</param>
/// <param name="Decayed">Starts that decayed.</param>
/// <param name="MedianSteps">The median of <see cref="Steps"/> over the starts that decayed (NaN if none did).</param>
/// <param name="MaxSteps">The largest of them (−1 if none).</param>
public sealed record NoiseDecay(double Tolerance, ImmutableArray<int> Steps, int Decayed, double MedianSteps, int MaxSteps)
{
    /// <summary>The noise-free trajectory from the first start, h_0 … (until it decays or the steps run out), for figures (not serialised).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public ImmutableArray<ImmutableArray<double>> FirstPath { get; init; } = [];
}

/// <summary>Orbits of the noise-driven ReLU RNN: emission against orbit phase, and the decay of activity without noise.</summary>
public static class Orbits
{
    /// <summary>
    /// Bins the states of a run by their phase φ = atan2(s₂, s₁) in the plane of the first two principal components
    /// (scores s around the run's mean) and averages, per bin, the network's emission distribution softmax(W_out h).
    /// </summary>
    /// <param name="weights">The network (its readout; the readout has no bias).</param>
    /// <param name="states">h_t over a noise-driven run, in time order.</param>
    /// <param name="pca">A PCA with at least two components (usually of these states).</param>
    /// <param name="bins">Phase bins over (−π, π].</param>
    public static OrbitPhase EmissionByPhase(ReluRnnWeights weights, IReadOnlyList<ImmutableArray<double>> states, PcaResult pca, int bins = 24)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(states);
        ArgumentNullException.ThrowIfNull(pca);
        if (bins < 2) throw new ArgumentOutOfRangeException(nameof(bins), bins, "must be ≥ 2");
        if (pca.Components.Length < 2) throw new ArgumentException($"needs two principal components, has {pca.Components.Length}", nameof(pca));
        if (states.Count < 2) throw new ArgumentException($"needs at least two states, got {states.Count}", nameof(states));
        int H = weights.Hidden, V = weights.Outputs;
        var counts = new int[bins];
        var emission = new double[bins, V];
        var radius = new double[bins];
        var phases = new double[states.Count];
        for (int t = 0; t < states.Count; t++)
        {
            var h = states[t];
            if (h.Length != H) throw new ArgumentException($"state {t} has {h.Length} units, the network {H}", nameof(states));
            var s = pca.Project(h);
            var phi = Math.Atan2(s[1], s[0]);
            phases[t] = phi;
            var b = Math.Min(bins - 1, (int)Math.Floor((phi + Math.PI) / (2 * Math.PI) * bins));
            counts[b]++;
            radius[b] += Math.Sqrt(s[0] * s[0] + s[1] * s[1]);
            var p = TanhRnn.Softmax(ReluRnn.Logits(weights, h.AsSpan()));
            for (int v = 0; v < V; v++) emission[b, v] += p[v];
        }
        var rows = new ImmutableArray<double>[bins];
        for (int b = 0; b < bins; b++)
            rows[b] = [.. Enumerable.Range(0, V).Select(v => counts[b] > 0 ? emission[b, v] / counts[b] : double.NaN)];
        var occupied = Enumerable.Range(0, bins).Where(b => counts[b] >= 0.01 * states.Count).ToArray();
        var modulation = occupied.Length == 0 ? 0 : Enumerable.Range(0, V).Max(v => occupied.Max(b => rows[b][v]) - occupied.Min(b => rows[b][v]));
        double sum = 0;
        int positive = 0;
        for (int t = 1; t < phases.Length; t++)
        {
            var d = Wrap(phases[t] - phases[t - 1]);
            sum += d;
            if (d > 0) positive++;
        }
        return new OrbitPhase([.. Enumerable.Range(0, bins).Select(b => -Math.PI + (b + 0.5) * 2 * Math.PI / bins)], [.. counts], [.. rows],
            [.. Enumerable.Range(0, bins).Select(b => counts[b] > 0 ? radius[b] / counts[b] : double.NaN)], modulation,
            sum / (phases.Length - 1), positive / (double)(phases.Length - 1));
    }

    /// <summary>
    /// From each start, iterates the noise-free map h ← ReLU(W_hh h) for up to <paramref name="maxSteps"/> steps and
    /// records the first step at which ‖h_t‖ ≤ <paramref name="tolerance"/> × ‖h_0‖.
    /// </summary>
    /// <param name="weights">The network.</param>
    /// <param name="starts">States to start from (e.g. states of a noisy run); a zero start has decayed at step 0.</param>
    /// <param name="maxSteps">Steps followed at most.</param>
    /// <param name="tolerance">The fraction of the start's norm that counts as decayed (default 1%).</param>
    public static NoiseDecay Decay(ReluRnnWeights weights, IReadOnlyList<ImmutableArray<double>> starts, int maxSteps, double tolerance = 0.01)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(starts);
        if (maxSteps < 1) throw new ArgumentOutOfRangeException(nameof(maxSteps), maxSteps, "must be ≥ 1");
        if (!(tolerance > 0 && tolerance < 1)) throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "must be in (0, 1)");
        var zero = new double[weights.Input];
        var steps = new int[starts.Count];
        var path = new List<ImmutableArray<double>>();
        for (int k = 0; k < starts.Count; k++)
        {
            var h = starts[k].AsSpan().ToArray();
            if (h.Length != weights.Hidden) throw new ArgumentException($"start {k} has {h.Length} units, the network {weights.Hidden}", nameof(starts));
            var bound = tolerance * Vectors.Norm(h);
            steps[k] = -1;
            for (int t = 0; t <= maxSteps; t++)
            {
                if (k == 0) path.Add([.. h]);
                if (Vectors.Norm(h) <= bound) { steps[k] = t; break; }
                if (t < maxSteps) h = ReluRnn.Step(weights, h, zero);
            }
        }
        var decayed = steps.Where(s => s >= 0).Order().ToArray();
        var median = decayed.Length == 0 ? double.NaN
            : decayed.Length % 2 == 1 ? decayed[decayed.Length / 2] : 0.5 * (decayed[decayed.Length / 2 - 1] + decayed[decayed.Length / 2]);
        return new NoiseDecay(tolerance, [.. steps], decayed.Length, median, decayed.Length == 0 ? -1 : decayed[^1]) { FirstPath = [.. path] };
    }

    private static double Wrap(double d)
    {
        while (d > Math.PI) d -= 2 * Math.PI;
        while (d <= -Math.PI) d += 2 * Math.PI;
        return d;
    }
}
