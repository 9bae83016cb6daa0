using System.Collections.Immutable;
using HmmRnn.Core;
using HmmRnn.Analysis.Dynamics;
using HmmRnn.Analysis.Numerics;
using HmmRnn.Core.Rnn;

namespace HmmRnn.Analysis.HmmEmulation;

/// <summary>Sizes of <see cref="HmmNetworkAnalysis.Run"/>'s noisy run and autonomous probes.</summary>
/// <param name="Steps">Steps of the noisy run kept (reference: 5,000 for the 2-state model, 10,000 otherwise); null picks by the HMM.</param>
/// <param name="WarmUp">Steps discarded first (reference 20).</param>
/// <param name="Sigma">The input noise's standard deviation (training: 1).</param>
/// <param name="DecayStarts">States of the run from which the noise-free dynamics are followed.</param>
/// <param name="DecaySteps">Noise-free steps followed (reference 500).</param>
/// <param name="ResidencyStates">States of the run (evenly spaced) whose residency times are measured.</param>
/// <param name="Patterns">The most frequent activation patterns of the run searched for exact fixed rays.</param>
/// <param name="EpisodeLength">
/// Null: one long run, as the reference (and, should it diverge, episodes of the training sequence length instead).
/// A length L: the run restarts from h = 0 every L steps (the distribution the network was trained on), no warm-up.
/// </param>
/// <param name="Gain">Sizes of the gain modulation (null: <see cref="GainOptions.Default"/>).</param>
/// <param name="Analyses">Which analyses run (the noisy run and its PCA always do).</param>
/// <param name="Kick">Thresholds of the kick-unit detector (null: <see cref="KickOptions.Default"/>).</param>
public sealed record HmmAnalysisOptions(int? Steps = null, int WarmUp = 20, double Sigma = 1, int DecayStarts = 100, int DecaySteps = 500,
    int ResidencyStates = 1_000, int Patterns = 200, int? EpisodeLength = null, GainOptions? Gain = null, HmmAnalyses Analyses = HmmAnalyses.All,
    KickOptions? Kick = null)
{
    /// <summary>The reference analysis's sizes.</summary>
    public static HmmAnalysisOptions Default { get; } = new();

    /// <summary>The first bad field, or null.</summary>
    public Violation? Problem()
    {
        if (Steps is int s && s < 10) return Violation.Of(nameof(Steps), s, "must be ≥ 10");
        if (WarmUp < 0) return Violation.Of(nameof(WarmUp), WarmUp, "must be ≥ 0");
        if (!(Sigma >= 0 && double.IsFinite(Sigma))) return Violation.Of(nameof(Sigma), Sigma, "must be finite and ≥ 0");
        if (DecayStarts < 1) return Violation.Of(nameof(DecayStarts), DecayStarts, "must be ≥ 1");
        if (DecaySteps < 1) return Violation.Of(nameof(DecaySteps), DecaySteps, "must be ≥ 1");
        if (ResidencyStates < 1) return Violation.Of(nameof(ResidencyStates), ResidencyStates, "must be ≥ 1");
        if (Patterns < 1) return Violation.Of(nameof(Patterns), Patterns, "must be ≥ 1");
        if (EpisodeLength is int l && l < 2) return Violation.Of(nameof(EpisodeLength), l, "must be ≥ 2");
        if (Kick is { } k && !(k.MinRise >= 0 && double.IsFinite(k.MinRise))) return Violation.Of("Kick.MinRise", k.MinRise, "must be finite and ≥ 0");
        return Violation.AtMost(nameof(Steps), Steps ?? 0, MaxSteps) ?? Violation.AtMost(nameof(DecayStarts), DecayStarts, MaxStates)
            ?? Violation.AtMost(nameof(DecaySteps), DecaySteps, MaxSteps) ?? Violation.AtMost(nameof(ResidencyStates), ResidencyStates, MaxStates)
            ?? Violation.AtMost(nameof(Patterns), Patterns, MaxStates);
    }

    /// <summary>Memory bounds: a noisy run (and noise-free runs) of ≤ 1,000,000 steps; ≤ 100,000 decay starts, residency states or patterns.</summary>
    public const int MaxSteps = 1_000_000, MaxStates = 100_000;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad field (<see cref="Problem"/>); returns this.</summary>
    public HmmAnalysisOptions Validate() => Problem() is { } p ? throw p.ToException() : this;
}

/// <summary>The analyses of <see cref="HmmNetworkAnalysis.Run"/> that can be chosen; the noisy run and its PCA always run.</summary>
[Flags]
public enum HmmAnalyses
{
    /// <summary>Only the noisy run and its PCA.</summary>
    None = 0,
    /// <summary>Noise-free dynamics: iteration, exact fixed rays, the origin's stability, the decay time.</summary>
    FixedPoints = 1,
    /// <summary>Emission probability against orbit phase.</summary>
    Orbit = 2,
    /// <summary>Residency classes and the Jacobian spectra per class.</summary>
    Residency = 4,
    /// <summary>Kick-unit detection and its ablation test.</summary>
    KickUnits = 8,
    /// <summary>Gain modulation of the detected kick units (detects them too).</summary>
    Gain = 16,
    /// <summary>Everything.</summary>
    All = FixedPoints | Orbit | Residency | KickUnits | Gain,
}

/// <summary>What the network does once the noise is switched off (the paper: activity collapses to a single fixed point).</summary>
/// <param name="Iteration">The reference's cross-check: h ← ReLU(W_hh h) from states of the noisy run.</param>
/// <param name="Origin">The origin's stability read from the visited activation patterns.</param>
/// <param name="Patterns">Distinct activation patterns in the run.</param>
/// <param name="Searched">The most frequent of them (and the iteration end points' patterns) searched exactly.</param>
/// <param name="FixedRays">Patterns with an exact fixed ray, and each ray's stability off the ray.</param>
/// <param name="Undecided">Patterns whose null space has dimension ≥ 2 and whose feasibility was not decided.</param>
/// <param name="ClosestToFixed">The smallest singular value of W_SS − I over the searched patterns: how near any visited pattern comes to a fixed ray.</param>
public sealed record NoiseFree(ReluIterationResult Iteration, ReluOriginStability Origin, int Patterns, int Searched,
    ImmutableArray<ReluPatternFixedPoint> FixedRays, int Undecided, double ClosestToFixed)
{
    /// <summary>The exact 2-cycle search over the run's most frequent consecutive pairs of patterns (SCYFI-style; null when not run).</summary>
    public TwoCycleSearch? TwoCycles { get; init; }

    /// <summary>Every start collapsed to the origin: the paper's single fixed point.</summary>
    public bool CollapsesToOrigin => Iteration.Ends.All(e => e.Collapsed);
}

/// <summary>Residency classes of states of the run, and the Jacobian spectra per class.</summary>
/// <param name="Indices">Which steps of the run were measured (evenly spaced).</param>
/// <param name="Result">Per measured state: residency time, class, symbol.</param>
/// <param name="Shares">The share of states per class (transition, kick zone, slow cluster, other).</param>
/// <param name="SlowBySymbol">Slow-cluster states per emitted symbol: which output each slow region stands for.</param>
/// <param name="MeanUnstable">Per class, the mean number of unstable eigenvalues (|λ| &gt; 1) of J = diag(1[W_hh h &gt; 0]) W_hh.</param>
/// <param name="MeanNearCritical">Per class, the mean number of near-critical complex pairs.</param>
public sealed record ResidencySection(ImmutableArray<int> Indices, ResidencyResult Result, ImmutableArray<double> Shares, ImmutableArray<int> SlowBySymbol,
    ImmutableArray<double> MeanUnstable, ImmutableArray<double> MeanNearCritical);

/// <summary>The pure part of opening up an HMM-emulating ReLU RNN (Torre et al. 2025, SPEC A5).</summary>
/// <param name="Steps">States in the noisy run (after warm-up).</param>
/// <param name="EpisodeLength">0: one long run; L: episodes of L steps from h = 0 (chosen, or the fallback after a divergence).</param>
/// <param name="DivergedAt">The step at which one long run diverged before the fallback to episodes; −1 if it did not.</param>
/// <param name="Pca">PCA of those states.</param>
/// <param name="ReadoutAnglesToPlane">Per readout row, the angle (degrees) between it and the PC1–PC2 plane.</param>
/// <param name="NoiseFree">Noise-free dynamics: iteration, exact fixed rays, the origin's stability (null when not chosen).</param>
/// <param name="Residency">Residency classes and Jacobian spectra (null when not chosen).</param>
/// <param name="RunSymbols">The argmax symbol of each step of the noisy run (for figures).</param>
/// <param name="Kicks">Kick units found from the noisy run (null when neither kick units nor gain modulation were chosen).</param>
/// <param name="KickAblation">Silencing the kick units against random sets of as many other units (null when none were found, when fewer other units remain, or when not chosen).</param>
/// <param name="Orbit">Emission probability against the phase of the noisy run in PC1–PC2 (null when not chosen).</param>
/// <param name="Decay">How many noise-free steps the activity of the decay starts takes to fall to 1% of its norm (null with <see cref="NoiseFree"/>).</param>
/// <param name="Gain">Gain modulation of the kick units' recurrent drive against a control set (null when no kick unit was found, too few other units remain, or not chosen).</param>
public sealed record HmmNetworkReport(int Steps, int EpisodeLength, int DivergedAt, PcaResult Pca, ImmutableArray<double> ReadoutAnglesToPlane, NoiseFree? NoiseFree, ResidencySection? Residency,
    ImmutableArray<int> RunSymbols, KickDetection? Kicks, AblationResult? KickAblation, OrbitPhase? Orbit, NoiseDecay? Decay, GainModulationResult? Gain)
{
    /// <summary>The kick subspace: one direction per kind of transition, mean-ablated against random subspaces (null when not run or no exits).</summary>
    public KickDirectionResult? KickDirection { get; init; }

    /// <summary>The noisy run's states (not serialised).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public ImmutableArray<ImmutableArray<double>> States { get; init; } = [];
}

/// <summary>Opens up a trained HMM-emulating ReLU RNN on plain arrays: a long noisy run, its PCA, the readout geometry, and what happens without noise.</summary>
public static class HmmNetworkAnalysis
{
    /// <summary>Runs the analyses on <paramref name="weights"/>, which emulate an HMM with <paramref name="hmmStates"/> states.</summary>
    public static HmmNetworkReport Run(ReluRnnWeights weights, int hmmStates, int sequenceLength, Rng rng, HmmAnalysisOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        options = (options ?? HmmAnalysisOptions.Default).Validate();
        int steps = options.Steps ?? (hmmStates == 2 ? 5_000 : 10_000), H = weights.Hidden, O = weights.Outputs;
        int episode = options.EpisodeLength ?? 0, divergedAt = -1;
        var (hidden, logits, diverged) = Simulate(weights, steps, episode == 0 ? options.WarmUp : 0, episode, options.Sigma, rng.Substream(0));
        if (diverged >= 0 && options.EpisodeLength is null && sequenceLength >= 2)
        {
            // Trained on sequences of T steps from h = 0, a network need not stay bounded over thousands: analyse it where it was trained.
            (divergedAt, episode) = (diverged, sequenceLength);
            (hidden, logits, diverged) = Simulate(weights, steps, 0, episode, options.Sigma, rng.Substream(0));
        }
        if (diverged >= 0)
            throw new ArgumentException($"the network's activity diverges under noise (step {diverged} of the noisy run{(episode > 0 ? $", episodes of {episode}" : "")}): its analyses are undefined", nameof(weights));
        var states = Enumerable.Range(0, steps).Select(t => ImmutableArray.Create(hidden.AsSpan(t * H, H).ToArray())).ToImmutableArray();
        var symbols = Enumerable.Range(0, steps).Select(t => Vectors.ArgMax(logits.AsSpan(t * O, O))).ToImmutableArray();
        var pca = Pca.Fit(states);
        var plane = pca.Components.Take(2).ToArray();
        var angles = Enumerable.Range(0, weights.Outputs).Select(o =>
        {
            var row = weights.Readout.AsSpan(o * H, H).ToArray().Select(x => (double)x).ToArray();
            return Math.Acos(Math.Clamp(Math.Sqrt(Geometry.ShareInSubspace(row, plane)), 0, 1)) * 180 / Math.PI;
        }).ToImmutableArray();
        bool Chosen(HmmAnalyses a) => (options.Analyses & a) != 0;
        var kicks = Chosen(HmmAnalyses.KickUnits | HmmAnalyses.Gain) ? KickUnits.Detect(weights, states, symbols, options.Kick) : null;
        // Control sets are drawn from the other units: a network with fewer of them than kick units (H = 1) is not ablated.
        var testable = kicks is { Units.IsEmpty: false } && 2 * kicks.Units.Length <= H;
        var ablation = testable && Chosen(HmmAnalyses.KickUnits) ? KickUnits.Ablate(weights, kicks!.Units, Math.Min(steps, 5_000), options.Sigma, 99, rng.Substream(2), episode) : null;
        var gain = testable && Chosen(HmmAnalyses.Gain) ? GainModulation.Run(weights, kicks!.Units, options.Sigma, rng.Substream(4), options.Gain, episode) : null;
        var (noiseFree, starts) = Chosen(HmmAnalyses.FixedPoints) ? NoiseFreeDynamics(weights, states, options, rng.Substream(1)) : (null, []);
        return new HmmNetworkReport(steps, episode, divergedAt, pca, angles, noiseFree,
            Chosen(HmmAnalyses.Residency) ? ResidencyOf(weights, states, options, rng.Substream(3)) : null, symbols,
            kicks, ablation,
            Chosen(HmmAnalyses.Orbit) ? Orbits.EmissionByPhase(weights, states, pca) : null,
            noiseFree is null ? null : Orbits.Decay(weights, starts, options.DecaySteps), gain)
        {
            States = states,
            KickDirection = Chosen(HmmAnalyses.KickUnits) ? Dynamics.KickDirection.Test(weights, states, symbols, Math.Min(steps, 5_000), options.Sigma, 99, rng.Substream(5), options.Kick, episode) : null,
        };
    }

    private static (NoiseFree?, ImmutableArray<double>[] Starts) NoiseFreeDynamics(ReluRnnWeights w, IReadOnlyList<ImmutableArray<double>> states, HmmAnalysisOptions options, Rng rng)
    {
        var starts = new ImmutableArray<double>[options.DecayStarts];
        for (int k = 0; k < starts.Length; k++)
        {
            (var i, rng) = rng.NextInt(states.Count);
            starts[k] = states[i];
        }
        var iteration = ReluFixedPoints.Iterate(w, starts, options.DecaySteps);
        var patterns = ReluFixedPoints.Patterns(states);
        var searched = patterns.OrderByDescending(p => p.Count).Take(options.Patterns).Select(p => p.Pattern)
            .Concat(ReluFixedPoints.Patterns([.. iteration.Ends.Where(e => !e.Collapsed && !e.Diverged).Select(e => e.End)]).Select(p => p.Pattern))
            .Distinct(PatternComparer.Instance).ToArray();
        var exact = ReluFixedPoints.Exact(w, searched);
        var origin = ReluFixedPoints.OriginStability(w, patterns.Select(p => p.Pattern));
        return (new NoiseFree(iteration, origin, patterns.Length, searched.Length,
            [.. exact.Where(x => x.Verdict == ReluRayVerdict.FixedRay)], exact.Count(x => x.Verdict == ReluRayVerdict.Undecided),
            exact.Length == 0 ? double.NaN : exact.Min(x => x.SmallestSingularValue)) { TwoCycles = ReluCycles.Search(w, states, options.Patterns) }, starts);
    }

    private static ResidencySection ResidencyOf(ReluRnnWeights w, IReadOnlyList<ImmutableArray<double>> states, HmmAnalysisOptions options, Rng rng)
    {
        var n = Math.Min(options.ResidencyStates, states.Count);
        var indices = Enumerable.Range(0, n).Select(k => (int)((long)k * states.Count / n)).ToImmutableArray();
        var picked = indices.Select(i => states[i]).ToArray();
        var result = Residency.Compute(w, picked, options.Sigma, rng);
        var classes = Enum.GetValues<ResidencyClass>();
        var spectra = JacobianSpectra.AtStates(w, picked);
        double Mean(ResidencyClass c, Func<JacobianStep, double> f)
        {
            var at = Enumerable.Range(0, n).Where(i => result.Classes[i] == c).ToArray();
            return at.Length == 0 ? double.NaN : at.Average(i => f(spectra[i]));
        }
        var slow = Enumerable.Range(0, w.Outputs).Select(v => Enumerable.Range(0, n).Count(i => result.Classes[i] == ResidencyClass.SlowCluster && result.StartSymbols[i] == v));
        return new ResidencySection(indices, result, [.. classes.Select(result.Share)], [.. slow],
            [.. classes.Select(c => Mean(c, s => s.Unstable))], [.. classes.Select(c => Mean(c, s => s.NearCriticalPairs))]);
    }

    /// <summary>
    /// A unit beyond this counts as diverged: an unstable network grows geometrically, and its states' second moments
    /// (PCA, residency) overflow a double near 1e154, long before the states themselves are infinite (1e308).
    /// </summary>
    public const double DivergenceBound = 1e100;

    /// <summary>
    /// <paramref name="steps"/> kept states (and logits) of a noise-driven run after <paramref name="warmUp"/> steps; with an episode
    /// length L &gt; 0, h restarts at 0 every L steps. Returns the first step whose state is not finite or exceeds
    /// <see cref="DivergenceBound"/> in some unit, or −1. Also the generator of <see cref="Resonance.Emit"/>.
    /// </summary>
    internal static (double[] Hidden, double[] Logits, int Diverged) Simulate(ReluRnnWeights w, int steps, int warmUp, int episode, double sigma, Rng rng)
    {
        int total = steps + warmUp, H = w.Hidden, D = w.Input, O = w.Outputs, chunk = episode > 0 ? episode : total;
        var noise = DrivingNoise.Draw(total, D, sigma, rng);
        var hidden = new double[total * H];
        var logits = new double[total * O];
        for (int start = 0; start < total; start += chunk)
        {
            int n = Math.Min(chunk, total - start);
            var run = ReluRnn.Run(w, noise.AsSpan(start * D, n * D));
            run.Hidden.AsSpan().CopyTo(hidden.AsSpan(start * H, n * H));
            run.Logits.AsSpan().CopyTo(logits.AsSpan(start * O, n * O));
        }
        for (int i = 0; i < hidden.Length; i++)
            if (!(Math.Abs(hidden[i]) <= DivergenceBound)) return ([], [], i / H);
        return (hidden[(warmUp * H)..], logits[(warmUp * O)..], -1);
    }
}
