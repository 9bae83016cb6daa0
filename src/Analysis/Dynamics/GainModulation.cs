using System.Collections.Immutable;
using HmmRnn.Analysis.HmmEmulation;
using HmmRnn.Analysis.Numerics;
using HmmRnn.Core;
using HmmRnn.Core.Rnn;

namespace HmmRnn.Analysis.Dynamics;

/// <summary>Which drive of a set of units the gain μ scales.</summary>
public enum GainDrive
{
    /// <summary>Their recurrent input: the rows of W_hh, h'_i = ReLU(μ (W_hh h)_i + (W_ih x)_i).</summary>
    Recurrent,
    /// <summary>Their noise input: the rows of W_ih, h'_i = ReLU((W_hh h)_i + μ (W_ih x)_i).</summary>
    Noise,
}

/// <summary>Sizes of <see cref="GainModulation.Run"/> (the reference: μ ∈ {0, 0.1, …, 2}, 1,000 steps, ±15 steps; here 2,000 steps by default, its statistic being a mean over the run's transitions).</summary>
/// <param name="Gains">The gains μ (default 0, 0.2, …, 2).</param>
/// <param name="Steps">Steps of each noise-driven run (the same noise at every μ).</param>
/// <param name="Window">Steps on each side of a transition whose Jacobians are counted.</param>
/// <param name="ControlSets">Random sets of as many other units, each modulated the same way.</param>
/// <param name="Drive">Which drive is scaled.</param>
public sealed record GainOptions([property: System.Text.Json.Serialization.JsonIgnore] ImmutableArray<double> Gains = default, int Steps = 2_000, int Window = 15, int ControlSets = 1,
    GainDrive Drive = GainDrive.Recurrent)
{
    /// <summary>The defaults above.</summary>
    public static GainOptions Default { get; } = new();

    /// <summary>The gains in force (what is written out).</summary>
    public ImmutableArray<double> EffectiveGains => Gains.IsDefaultOrEmpty ? [.. Enumerable.Range(0, 11).Select(i => i * 0.2)] : Gains;
}

/// <summary>The modulated network at one gain.</summary>
/// <param name="Gain">μ.</param>
/// <param name="Transitions">Symbol changes (argmax output) in the run.</param>
/// <param name="ChangeRate">Symbol changes per step.</param>
/// <param name="NearCritical">
/// The reference's statistic: per transition, the number of near-critical complex pairs (<see cref="JacobianSpectra.IsNearCritical"/>)
/// summed over the Jacobians J_t = D_t W' of the steps within ±Window of it, averaged over the transitions whose window fits in the run.
/// </param>
/// <param name="NearCriticalSd">The standard deviation of that count over the transitions.</param>
/// <param name="DivergedAt">The step at which the modulated run's activity passed <see cref="HmmNetworkAnalysis.DivergenceBound"/> (−1: it stayed bounded); the statistics are then NaN.</param>
/// <param name="WindowsFromIntact">True when no transition of the modulated run had a whole window in the run and the windows were taken at the intact network's transitions (as the reference does when a run has fewer than two).</param>
public sealed record GainPoint(double Gain, int Transitions, double ChangeRate, double NearCritical, double NearCriticalSd, bool WindowsFromIntact, int DivergedAt = -1);

/// <summary>One set of units modulated across the gains.</summary>
/// <param name="Units">The units whose drive is scaled.</param>
/// <param name="Points">One point per gain, in the options' order.</param>
public sealed record GainCurve(ImmutableArray<int> Units, ImmutableArray<GainPoint> Points);

/// <summary>Gain modulation of the kick units against control sets of as many other units.</summary>
/// <param name="Drive">Which drive was scaled.</param>
/// <param name="Kick">The kick units' curve.</param>
/// <param name="Controls">The control sets' curves.</param>
public sealed record GainModulationResult(GainDrive Drive, GainCurve Kick, ImmutableArray<GainCurve> Controls);

/// <summary>
/// Gain modulation (Torre et al. 2025; the reference's <c>run_injected</c> and <c>compute_CE</c>): scale the drive of a set of
/// units by μ, run the network on fixed noise, and count near-critical complex eigenvalue pairs of the step Jacobians around
/// each output transition. If kick units set off transitions through locally oscillatory (near-critical) dynamics, scaling
/// their drive moves that count and the transition rate, and scaling as many other units does less.
/// <para>
/// The reference's Jacobian scales the columns of D W where its forward pass scales the rows of W; the two have the same
/// eigenvalues (eig(D W C) = eig(C D W) = eig(D C W) for diagonal C, D), so the counts agree with the exact Jacobian used here.
/// </para>
/// </summary>
public static class GainModulation
{
    /// <summary>The network with the <paramref name="drive"/> of <paramref name="units"/> scaled by <paramref name="gain"/>.</summary>
    public static ReluRnnWeights Scale(ReluRnnWeights weights, IReadOnlyCollection<int> units, double gain, GainDrive drive)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(units);
        if (!double.IsFinite(gain)) throw new ArgumentOutOfRangeException(nameof(gain), gain, "must be finite");
        int H = weights.Hidden, width = drive == GainDrive.Recurrent ? H : weights.Input;
        var scaled = (drive == GainDrive.Recurrent ? weights.RecurrentWeights : weights.InputWeights).ToArray();
        foreach (var u in units.Distinct())
        {
            if ((uint)u >= (uint)H) throw new ArgumentException($"unit {u} outside [0, {H})", nameof(units));
            for (int j = 0; j < width; j++) scaled[u * width + j] = (float)(scaled[u * width + j] * gain);
        }
        return drive == GainDrive.Recurrent
            ? new ReluRnnWeights(H, weights.Input, weights.Outputs, weights.InputWeights, [.. scaled], weights.Readout)
            : new ReluRnnWeights(H, weights.Input, weights.Outputs, [.. scaled], weights.RecurrentWeights, weights.Readout);
    }

    /// <summary>
    /// Modulates <paramref name="units"/> and <see cref="GainOptions.ControlSets"/> random sets of as many other units across
    /// the gains, all on the same noise of standard deviation <paramref name="sigma"/>.
    /// </summary>
    /// <param name="weights">The network.</param>
    /// <param name="units">The units to modulate (e.g. the detected kick units).</param>
    /// <param name="sigma">The input noise's standard deviation.</param>
    /// <param name="rng">The noise and the control sets.</param>
    /// <param name="options">Sizes (default <see cref="GainOptions.Default"/>).</param>
    /// <param name="episodeLength">0: one run from h = 0; L &gt; 0: the run restarts from h = 0 every L steps (no transition counted across a restart).</param>
    public static GainModulationResult Run(ReluRnnWeights weights, IReadOnlyCollection<int> units, double sigma, Rng rng, GainOptions? options = null,
        int episodeLength = 0)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(units);
        options = Check(options ?? GainOptions.Default);
        if (!(sigma >= 0 && double.IsFinite(sigma))) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "must be finite and ≥ 0");
        var set = units.Distinct().ToArray();
        if (set.Length == 0) throw new ArgumentException("needs at least one unit", nameof(units));
        foreach (var u in set)
            if ((uint)u >= (uint)weights.Hidden) throw new ArgumentException($"unit {u} outside [0, {weights.Hidden})", nameof(units));
        var others = Enumerable.Range(0, weights.Hidden).Except(set).ToArray();
        if (options.ControlSets > 0 && others.Length < set.Length)
            throw new ArgumentException($"{set.Length} units leave {others.Length} others to draw control sets of {set.Length} from", nameof(units));
        (rng, var draws) = rng.Split();
        var noise = DrivingNoise.Draw(options.Steps, weights.Input, sigma, rng);
        var controls = new int[options.ControlSets][];
        for (int c = 0; c < controls.Length; c++)
        {
            var order = others.ToArray();
            draws = draws.Shuffle<int>(order);
            controls[c] = [.. order[..set.Length].Order()];
        }
        var intact = Simulate(weights, noise, episodeLength);
        if (intact.DivergedAt >= 0) throw new ArgumentException($"the network's activity diverges under noise at step {intact.DivergedAt}: gain modulation is undefined", nameof(weights));
        var sets = new[] { set }.Concat(controls).ToArray();
        var gains = options.EffectiveGains;
        var points = new GainPoint[sets.Length, gains.Length];
        Parallel.For(0, sets.Length * gains.Length, k =>
        {
            int s = k / gains.Length, g = k % gains.Length;
            points[s, g] = Point(Scale(weights, sets[s], gains[g], options.Drive), gains[g], noise, episodeLength, options.Window, intact.Transitions);
        });
        GainCurve Curve(int s) => new([.. sets[s]], [.. Enumerable.Range(0, gains.Length).Select(g => points[s, g])]);
        return new GainModulationResult(options.Drive, Curve(0), [.. Enumerable.Range(1, controls.Length).Select(Curve)]);
    }

    /// <summary>
    /// The reference's statistic for one (already modulated) network on <paramref name="noise"/>: transitions, change rate, and
    /// the near-critical pairs summed over ±<paramref name="window"/> steps around each transition, averaged over transitions.
    /// </summary>
    /// <param name="weights">The (modulated) network.</param>
    /// <param name="gain">μ, for the record.</param>
    /// <param name="noise">x_1 … x_T, T × D row-major (already scaled by σ).</param>
    /// <param name="episodeLength">0: one run; L &gt; 0: restarts from h = 0 every L steps.</param>
    /// <param name="window">Steps on each side of a transition.</param>
    /// <param name="fallback">Transition steps to use when none of this run's has a whole window in the run (the intact network's).</param>
    public static GainPoint Point(ReluRnnWeights weights, double gain, ReadOnlySpan<double> noise, int episodeLength, int window, IReadOnlyList<int> fallback)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(fallback);
        var run = Simulate(weights, noise, episodeLength);
        if (run.DivergedAt >= 0) return new GainPoint(gain, run.Transitions.Count, double.NaN, double.NaN, double.NaN, false, run.DivergedAt);
        int T = run.Steps;
        // A transition at t is a change between the outputs of steps t and t + 1; its window is the Jacobians J_{t−w+1} … J_{t+w}.
        int[] Inside(IEnumerable<int> transitions) => [.. transitions.Where(t => t - window + 1 >= 0 && t + window < T)];
        var counted = Inside(run.Transitions);
        var fromIntact = counted.Length == 0;
        if (fromIntact) counted = Inside(fallback);
        var needed = new SortedSet<int>();
        foreach (var t in counted)
            for (int s = t - window + 1; s <= t + window; s++) needed.Add(s);
        var steps = needed.ToArray();
        var spectra = JacobianSpectra.FromPreActivations(weights, [.. steps.Select(s => run.PreActivations[s])]);
        var pairs = new Dictionary<int, int>(steps.Length);
        for (int i = 0; i < steps.Length; i++) pairs[steps[i]] = spectra[i].NearCriticalPairs;
        var perTransition = counted.Select(t => (double)Enumerable.Range(t - window + 1, 2 * window).Sum(s => pairs[s])).ToArray();
        var mean = perTransition.Length == 0 ? double.NaN : perTransition.Average();
        var sd = perTransition.Length < 2 ? double.NaN : Math.Sqrt(perTransition.Sum(x => (x - mean) * (x - mean)) / (perTransition.Length - 1));
        return new GainPoint(gain, run.Transitions.Count, run.Pairs == 0 ? 0 : run.Transitions.Count / (double)run.Pairs, mean, sd,
            fromIntact && counted.Length > 0);
    }

    /// <summary>A run's pre-activations a_t = W_hh h_{t−1} + W_ih x_t (their signs give J_t), argmax outputs and transitions.</summary>
    private static (int Steps, ImmutableArray<double>[] PreActivations, List<int> Transitions, int Pairs, int DivergedAt) Simulate(ReluRnnWeights w, ReadOnlySpan<double> noise,
        int episodeLength)
    {
        int D = w.Input, H = w.Hidden, T = noise.Length / D;
        var pre = new ImmutableArray<double>[T];
        var transitions = new List<int>();
        var h = new double[H];
        int previous = -1, pairs = 0;
        for (int t = 0; t < T; t++)
        {
            if (episodeLength > 0 && t % episodeLength == 0) { Array.Clear(h); previous = -1; }
            // a_t = W_hh h_{t−1} + W_ih x_t, kept before the ReLU: its signs are J_t's pattern.
            var a = ReluRnn.PreActivation(w, h, noise.Slice(t * D, D));
            for (int i = 0; i < H; i++)
                if (!(Math.Abs(a[i]) <= HmmNetworkAnalysis.DivergenceBound)) return (T, pre, transitions, pairs, t);
            pre[t] = ImmutableArray.Create(a);
            for (int i = 0; i < H; i++) h[i] = a[i] > 0 ? a[i] : 0;
            var symbol = Vectors.ArgMax(ReluRnn.Logits(w, h));
            if (previous >= 0)
            {
                pairs++;
                if (symbol != previous) transitions.Add(t - 1);
            }
            previous = symbol;
        }
        return (T, pre, transitions, pairs, -1);
    }

    private static GainOptions Check(GainOptions o)
    {
        if (o.Steps < 2) throw new ArgumentException($"Steps = {o.Steps}: must be ≥ 2", "options");
        if (o.Window < 1) throw new ArgumentException($"Window = {o.Window}: must be ≥ 1", "options");
        if (o.ControlSets < 0) throw new ArgumentException($"ControlSets = {o.ControlSets}: must be ≥ 0", "options");
        foreach (var g in o.EffectiveGains)
            if (!(g >= 0 && double.IsFinite(g))) throw new ArgumentException($"Gains: {g} must be finite and ≥ 0", "options");
        return o;
    }
}
