using System.Collections.Immutable;
using HmmRnn.Analysis.Numerics;
using HmmRnn.Core;
using HmmRnn.Core.Rnn;

namespace HmmRnn.Analysis.Dynamics;

/// <summary>How <see cref="KickUnits.Detect"/> finds kick units.</summary>
/// <param name="MinDwell">A transition counts when the emitted (argmax) symbol changes after at least this many steps on the old one (a slow region left).</param>
/// <param name="Window">Steps before the change in which a kick unit must rise.</param>
/// <param name="MinRise">The rise, in standard deviations of the unit's activity over the run, a kick unit needs.</param>
/// <param name="MaxFraction">At most this fraction of the units are reported (the largest rises).</param>
public sealed record KickOptions(int MinDwell = 8, int Window = 3, double MinRise = 1.0, double MaxFraction = 0.1)
{
    /// <summary>The defaults above.</summary>
    public static KickOptions Default { get; } = new();
}

/// <summary>One unit's evidence of kicking one kind of transition.</summary>
/// <param name="Unit">Its index.</param>
/// <param name="From">The symbol left.</param>
/// <param name="To">The symbol entered.</param>
/// <param name="Transitions">How many such transitions the scores average over.</param>
/// <param name="Rise">Mean activity in the window before these transitions minus its mean over the run, in standard deviations of its activity.</param>
/// <param name="Push">(a_to − a_from) · W_hh[:, unit]: how much one unit of its activity moves the next step's logit difference toward the new symbol.</param>
public sealed record KickScore(int Unit, int From, int To, int Transitions, double Rise, double Push);

/// <summary>Kick units and the transitions they were found from.</summary>
/// <param name="Units">The detected units, largest rise first: for some kind of transition, rise ≥ <see cref="KickOptions.MinRise"/> and push &gt; 0.</param>
/// <param name="Kicks">The (unit, transition kind) scores that qualified, largest rise first.</param>
/// <param name="Transitions">Transitions (exits from a slow region) found, all kinds.</param>
/// <param name="Strongest">The five largest rises among (unit, kind) pairs that push toward the new symbol, qualifying or not: how far from the threshold a network is.</param>
public sealed record KickDetection(ImmutableArray<int> Units, ImmutableArray<KickScore> Kicks, int Transitions, ImmutableArray<KickScore> Strongest);

/// <summary>What silencing a set of units does to a noise-driven run, against silencing random sets of as many other units.</summary>
/// <param name="Units">The silenced units.</param>
/// <param name="IntactRate">Symbol changes per step of the intact network (same noise).</param>
/// <param name="AblatedRate">Symbol changes per step with the units silenced.</param>
/// <param name="RandomRates">The same for each random set of as many units drawn from the others (none of <paramref name="Units"/>).</param>
/// <param name="PValue">(1 + #random sets whose rate is at most the ablated rate) / (1 + #random sets): small when silencing these units slows transitions more than chance.</param>
public sealed record AblationResult(ImmutableArray<int> Units, double IntactRate, double AblatedRate, ImmutableArray<double> RandomRates, double PValue);

/// <summary>
/// Kick neurons (Torre et al. 2025): the few units that initiate transitions between slow regions. The
/// reference picks them by hand per network; here a unit is a kick unit when (1) its activity rises
/// above its usual level in the few steps before the emitted symbol leaves a long run and (2) its outgoing
/// recurrent weights push the next step's readout toward the new symbol. Ablation (silencing the units)
/// against random sets of equal size of the other units verifies the claim.
/// </summary>
public static class KickUnits
{
    /// <summary>Scores every unit over a run (states h_t and the symbols the network emitted) and returns the kick units.</summary>
    /// <param name="weights">The network (its W_hh and readout give the push).</param>
    /// <param name="states">h_t over a noise-driven run.</param>
    /// <param name="symbols">The symbol emitted at each step (e.g. the argmax of the readout).</param>
    /// <param name="options">Thresholds (default <see cref="KickOptions.Default"/>).</param>
    public static KickDetection Detect(ReluRnnWeights weights, IReadOnlyList<ImmutableArray<double>> states, IReadOnlyList<int> symbols, KickOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(states);
        ArgumentNullException.ThrowIfNull(symbols);
        options ??= KickOptions.Default;
        if (states.Count != symbols.Count) throw new ArgumentException($"{symbols.Count} symbols for {states.Count} states", nameof(symbols));
        if (options.Window < 1 || options.MinDwell < 1) throw new ArgumentException("Window and MinDwell must be ≥ 1", nameof(options));
        int H = weights.Hidden, T = states.Count;
        var (mean, covariance) = SampleMoments.Of(states, nameof(states), "step", "units");
        if (mean.Length != H) throw new ArgumentException($"states have {mean.Length} units, the network {H}", nameof(states));
        var sd = Enumerable.Range(0, H).Select(i => Math.Sqrt(covariance[i * H + i])).ToArray();

        int V = weights.Outputs;
        var before = new double[V, V, H];
        var count = new int[V, V];
        int transitions = 0;
        foreach (var (from, to, _, t) in Exits(symbols, options))
        {
            if ((uint)from >= (uint)V || (uint)to >= (uint)V) throw new ArgumentException($"step {t}: symbol outside [0, {V})", nameof(symbols));
            transitions++;
            count[from, to]++;
            for (int k = 1; k <= options.Window; k++)
                for (int i = 0; i < H; i++) before[from, to, i] += states[t - k][i];
        }
        var pushing = new List<KickScore>();
        for (int from = 0; from < V; from++)
            for (int to = 0; to < V; to++)
            {
                if (count[from, to] == 0) continue;
                for (int i = 0; i < H; i++)
                {
                    if (sd[i] == 0) continue;
                    double push = 0;
                    for (int j = 0; j < H; j++)
                        push += (weights.Readout[to * H + j] - weights.Readout[from * H + j]) * weights.RecurrentWeights[j * H + i];
                    var rise = (before[from, to, i] / (count[from, to] * options.Window) - mean[i]) / sd[i];
                    if (push > 0) pushing.Add(new KickScore(i, from, to, count[from, to], rise, push));
                }
            }
        var strongest = pushing.OrderByDescending(k => k.Rise).ToImmutableArray();
        var ordered = strongest.Where(k => k.Rise >= options.MinRise).ToImmutableArray();
        var max = Math.Max(1, (int)Math.Floor(options.MaxFraction * H));
        var units = ordered.Select(k => k.Unit).Distinct().Take(max).ToImmutableArray();
        return new KickDetection(units, ordered, transitions, [.. strongest.Take(5)]);
    }

    /// <summary>One exit from a slow run: the run of <paramref name="From"/> over steps Start … At − 1, then <paramref name="To"/> at At.</summary>
    public readonly record struct Exit(int From, int To, int Start, int At);

    /// <summary>
    /// The exits from runs of ≥ MinDwell steps of one symbol with at least Window steps before them (a run cut off by the end
    /// of the symbols is not an exit): the transitions kick units and kick directions are read around.
    /// </summary>
    public static IReadOnlyList<Exit> Exits(IReadOnlyList<int> symbols, KickOptions options)
    {
        ArgumentNullException.ThrowIfNull(symbols);
        ArgumentNullException.ThrowIfNull(options);
        var exits = new List<Exit>();
        int start = 0;
        for (int t = 1; t < symbols.Count; t++)
        {
            if (symbols[t] == symbols[t - 1]) continue;
            if (t - start >= options.MinDwell && t >= options.Window) exits.Add(new Exit(symbols[t - 1], symbols[t], start, t));
            start = t;
        }
        return exits;
    }

    /// <summary>
    /// Silences <paramref name="units"/> (their activity set to 0 after every step) in a noise-driven run of
    /// <paramref name="steps"/> steps and compares its rate of symbol changes with the intact network's and with
    /// <paramref name="randomSets"/> random sets of as many units drawn from the other units, all on the same noise.
    /// <para>
    /// The control sets exclude the tested units: were they drawn from all units, a set that happens to contain one
    /// unit that is needed on its own (a kick unit for one direction: without it the network stays in one slow region)
    /// would silence transitions as well as the tested set, and p could not fall below the chance of such an overlap,
    /// 1 − C(H − k, k) / C(H, k) for k of H units: 0.19 for 2 of 20, 0.8 for the analysis's up to 15 of 150.
    /// </para>
    /// </summary>
    /// <param name="weights">The network.</param>
    /// <param name="units">The units to silence.</param>
    /// <param name="steps">Steps of the run.</param>
    /// <param name="sigma">The input noise's standard deviation.</param>
    /// <param name="randomSets">Random sets of as many other units to compare with (there must be at least as many other units as silenced ones).</param>
    /// <param name="rng">The noise and the random sets.</param>
    /// <param name="episodeLength">0: one run; L &gt; 0: the run restarts from h = 0 every L steps (changes across a restart are not counted).</param>
    public static AblationResult Ablate(ReluRnnWeights weights, IReadOnlyCollection<int> units, int steps, double sigma, int randomSets, Rng rng,
        int episodeLength = 0)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(units);
        if (steps < 2) throw new ArgumentOutOfRangeException(nameof(steps), steps, "must be ≥ 2");
        if (randomSets < 1) throw new ArgumentOutOfRangeException(nameof(randomSets), randomSets, "must be ≥ 1");
        foreach (var u in units)
            if ((uint)u >= (uint)weights.Hidden) throw new ArgumentException($"unit {u} outside [0, {weights.Hidden})", nameof(units));
        (rng, var draws) = rng.Split();
        var noise = DrivingNoise.Draw(steps, weights.Input, sigma, rng);
        var set = units.ToImmutableArray();
        var others = Enumerable.Range(0, weights.Hidden).Except(set).ToArray();
        if (others.Length < set.Length)
            throw new ArgumentException($"{set.Length} units silenced leave {others.Length} others to draw random sets of {set.Length} from", nameof(units));
        var random = new double[randomSets];
        var choices = new int[randomSets][];
        for (int r = 0; r < randomSets; r++)
        {
            var order = others.ToArray();
            draws = draws.Shuffle<int>(order);
            choices[r] = order[..set.Length];
        }
        Parallel.For(0, randomSets, r => random[r] = ChangeRate(weights, noise, choices[r], episodeLength));
        var ablated = ChangeRate(weights, noise, [.. set], episodeLength);
        var p = (1.0 + random.Count(x => x <= ablated)) / (1.0 + randomSets);
        return new AblationResult(set, ChangeRate(weights, noise, [], episodeLength), ablated, ImmutableArray.Create(random), p);
    }

    /// <summary>
    /// Symbol changes per step of a run on <paramref name="noise"/> with <paramref name="silenced"/> units held at 0; with
    /// <paramref name="episodeLength"/> L &gt; 0 the state restarts at 0 every L steps and pairs across a restart are not counted.
    /// </summary>
    public static double ChangeRate(ReluRnnWeights weights, ReadOnlySpan<double> noise, int[] silenced, int episodeLength = 0)
    {
        ArgumentNullException.ThrowIfNull(silenced);
        return ChangeRate(weights, noise, h => { foreach (var u in silenced) h[u] = 0; }, episodeLength);
    }

    /// <summary>
    /// Symbol changes per step of a run on <paramref name="noise"/> with <paramref name="perturb"/> applied to the state after
    /// every step (silencing units, projecting out a direction); with <paramref name="episodeLength"/> L &gt; 0 the state
    /// restarts at 0 every L steps and pairs across a restart are not counted.
    /// </summary>
    public static double ChangeRate(ReluRnnWeights weights, ReadOnlySpan<double> noise, Action<double[]> perturb, int episodeLength = 0)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(perturb);
        int D = weights.Input, H = weights.Hidden, T = noise.Length / D;
        var h = new double[H];
        int previous = -1, changes = 0, pairs = 0;
        for (int t = 0; t < T; t++)
        {
            if (episodeLength > 0 && t % episodeLength == 0) { h = new double[H]; previous = -1; }
            h = ReluRnn.Step(weights, h, noise.Slice(t * D, D));
            perturb(h);
            int symbol = 0;
            double best = double.NegativeInfinity;
            for (int o = 0; o < weights.Outputs; o++)
            {
                double y = 0;
                for (int j = 0; j < H; j++) y += weights.Readout[o * H + j] * h[j];
                if (y > best) (best, symbol) = (y, o);
            }
            if (previous >= 0)
            {
                pairs++;
                if (symbol != previous) changes++;
            }
            previous = symbol;
        }
        return pairs > 0 ? changes / (double)pairs : 0;
    }
}
