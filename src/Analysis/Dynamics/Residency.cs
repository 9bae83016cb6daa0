using System.Collections.Immutable;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using HmmRnn.Core;
using HmmRnn.Core.Rnn;

namespace HmmRnn.Analysis.Dynamics;

/// <summary>The reference's classes of visited states by residency time (RT).</summary>
public enum ResidencyClass
{
    /// <summary>RT &lt; 2: a fast, almost deterministic transition.</summary>
    Transition,
    /// <summary>2 ≤ RT ≤ 8: a kick zone.</summary>
    KickZone,
    /// <summary>RT &gt; 8 and the largest softmax probability of A h above 0.8: a slow, noise-driven cluster.</summary>
    SlowCluster,
    /// <summary>RT &gt; 8 but no confident output.</summary>
    Other,
}

/// <summary>How <see cref="Residency.Compute"/> measures and classifies (defaults: the paper's values).</summary>
/// <param name="Continuations">Noisy continuations per state (reference: 20).</param>
/// <param name="MaxSteps">The longest continuation (issue 9: 60; one version of the reference code uses 50); one that never changes counts as MaxSteps.</param>
/// <param name="TransitionBelow">RT below this is a transition (2).</param>
/// <param name="KickUpTo">RT from <see cref="TransitionBelow"/> up to and including this is a kick zone (8).</param>
/// <param name="SlowProbability">Above <see cref="KickUpTo"/>, a slow cluster needs its largest softmax probability above this (0.8).</param>
public sealed record ResidencyOptions(int Continuations = 20, int MaxSteps = 60, double TransitionBelow = 2, double KickUpTo = 8, double SlowProbability = 0.8)
{
    /// <summary>The defaults above.</summary>
    public static ResidencyOptions Default { get; } = new();
}

/// <summary>Residency times and classes of the given states.</summary>
/// <param name="Times">Per state, RT: the mean over the continuations of the first step whose arg-max logit differs from the start's (MaxSteps when it never does).</param>
/// <param name="Classes">Per state, its class.</param>
/// <param name="StartSymbols">Per state, the arg-max of A h (the lowest index on ties).</param>
/// <param name="MaxProbability">Per state, the largest softmax probability of A h.</param>
/// <param name="Options">The options used.</param>
public sealed record ResidencyResult(ImmutableArray<double> Times, ImmutableArray<ResidencyClass> Classes, ImmutableArray<int> StartSymbols,
    ImmutableArray<double> MaxProbability, ResidencyOptions Options)
{
    /// <summary>The share of states in <paramref name="c"/> (0 when there are no states).</summary>
    /// <param name="c">A class.</param>
    public double Share(ResidencyClass c) => Classes.Length == 0 ? 0 : Classes.Count(x => x == c) / (double)Classes.Length;
}

/// <summary>
/// Residency times of visited states as the reference defines them (Torre et al. 2025; SPEC A5; issue 9 item 4):
/// from each state h of a long noisy run, several noisy continuations h ← ReLU(W_hh h + W_ih x), x ~ N(0, σ² I),
/// each stopped at the first step whose arg-max logit A h differs from the arg-max at h; RT is the mean stopping
/// step, a continuation that never changes within MaxSteps counting as MaxSteps (so RT is censored at MaxSteps).
/// <para>
/// All continuations are advanced together, in blocks, by one product with [W_hh | σ W_ih] per step; finished
/// continuations drop out. Continuation c of state s draws its noise from <c>rng.Substream(s · C + c)</c>, so the
/// result depends on the seed only, not on threads or blocks; the arithmetic has a fixed order and uses
/// <see cref="Vector256.FusedMultiplyAdd(Vector256{double}, Vector256{double}, Vector256{double})"/>, defined to round once
/// whether or not the hardware has the instruction, so the same seed gives the same bytes on every machine.
/// </para>
/// </summary>
public static class Residency
{
    private const int BlockRows = 64;

    /// <summary>Residency times and classes of <paramref name="states"/>.</summary>
    /// <param name="weights">The network.</param>
    /// <param name="states">States h (each of length H), e.g. a noisy run after warm-up.</param>
    /// <param name="sigma">The input noise standard deviation σ ≥ 0 (the trained σ).</param>
    /// <param name="rng">The randomness; use a fresh one afterwards (this call uses its sub-streams).</param>
    /// <param name="options">Counts and thresholds (default <see cref="ResidencyOptions.Default"/>).</param>
    public static ResidencyResult Compute(ReluRnnWeights weights, IReadOnlyList<ImmutableArray<double>> states, double sigma, Rng rng, ResidencyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(states);
        if (!(sigma >= 0 && double.IsFinite(sigma))) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "must be finite and ≥ 0");
        options = Check(options);
        int H = weights.Hidden, D = weights.Input, O = weights.Outputs, S = states.Count, C = options.Continuations;
        for (int s = 0; s < S; s++) JacobianSpectra.CheckVector(states[s], H, s, nameof(states));

        var readout = new double[O * H];
        for (int i = 0; i < readout.Length; i++) readout[i] = weights.Readout[i];
        var start = new int[S];
        var maxProbability = new double[S];
        for (int s = 0; s < S; s++) (start[s], maxProbability[s]) = ArgMaxAndProbability(readout, O, H, states[s].AsSpan());

        // [W_hh | σ W_ih], each row padded with zeros to a multiple of 4 columns; an even number of rows.
        int K = Pad(H + D, 4), Hp = Pad(H, 2);
        var wcat = new double[Hp * K];
        for (int i = 0; i < H; i++)
        {
            for (int j = 0; j < H; j++) wcat[i * K + j] = weights.RecurrentWeights[i * H + j];
            for (int k = 0; k < D; k++) wcat[i * K + H + k] = sigma * weights.InputWeights[i * D + k];
        }

        var totals = new double[S];
        int statesPerBlock = Math.Max(1, BlockRows / C), blocks = (S + statesPerBlock - 1) / statesPerBlock;
        Parallel.For(0, blocks, b =>
        {
            int first = b * statesPerBlock, count = Math.Min(statesPerBlock, S - first);
            RunBlock(wcat, readout, H, Hp, D, O, K, states, start, first, count, C, options.MaxSteps, rng, totals);
        });

        var times = new double[S];
        var classes = new ResidencyClass[S];
        for (int s = 0; s < S; s++)
        {
            times[s] = totals[s] / C;
            classes[s] = Classify(times[s], maxProbability[s], options);
        }
        return new ResidencyResult(ImmutableArray.Create(times), ImmutableArray.Create(classes), ImmutableArray.Create(start),
            ImmutableArray.Create(maxProbability), options);
    }

    /// <summary>The class of a state with residency time <paramref name="time"/> and largest output probability <paramref name="maxProbability"/>.</summary>
    /// <param name="time">RT.</param>
    /// <param name="maxProbability">The largest softmax probability of A h.</param>
    /// <param name="options">Thresholds (default <see cref="ResidencyOptions.Default"/>).</param>
    public static ResidencyClass Classify(double time, double maxProbability, ResidencyOptions? options = null)
    {
        options = Check(options);
        if (double.IsNaN(time)) throw new ArgumentOutOfRangeException(nameof(time), time, "must be a number");
        if (double.IsNaN(maxProbability)) throw new ArgumentOutOfRangeException(nameof(maxProbability), maxProbability, "must be a number");
        return time < options.TransitionBelow ? ResidencyClass.Transition
            : time <= options.KickUpTo ? ResidencyClass.KickZone
            : maxProbability > options.SlowProbability ? ResidencyClass.SlowCluster : ResidencyClass.Other;
    }

    /// <summary>
    /// Advances the continuations of states first … first + count − 1. Rows 0 … active − 1 of the buffers are the
    /// running continuations; a finished one is swapped with the last running one.
    /// </summary>
    private static void RunBlock(double[] wcat, double[] readout, int H, int Hp, int D, int O, int K, IReadOnlyList<ImmutableArray<double>> states,
        int[] start, int first, int count, int C, int maxSteps, Rng rng, double[] totals)
    {
        int rows = count * C, rowsPadded = Pad(rows, 4);
        var z = new double[rowsPadded * K];      // per row: [h (H) | x (D) | zeros]
        var next = new double[rowsPadded * Hp];
        var streams = new Rng[rows];
        var owner = new int[rows];               // which state the row continues
        for (int r = 0; r < rows; r++)
        {
            int s = first + r / C, c = r % C;
            owner[r] = s;
            streams[r] = rng.Substream((long)s * C + c);
            states[s].AsSpan().CopyTo(z.AsSpan(r * K, H));
        }
        var sums = new double[count];
        int active = rows;
        for (int step = 1; step <= maxSteps && active > 0; step++)
        {
            for (int r = 0; r < active; r++) streams[r] = streams[r].FillNormal(z.AsSpan(r * K + H, D));
            Multiply(wcat, z, next, Pad(active, 4), Hp, K);
            int row = 0;
            while (row < active)
            {
                var h = next.AsSpan(row * Hp, H);
                var (symbol, _) = ArgMaxAndProbability(readout, O, H, h, probability: false);
                if (symbol != start[owner[row]])
                {
                    sums[owner[row] - first] += step;
                    int last = --active;
                    if (row != last)
                    {
                        next.AsSpan(last * Hp, H).CopyTo(next.AsSpan(row * Hp, H));
                        streams[row] = streams[last];
                        owner[row] = owner[last];
                    }
                    continue; // the row now holds another continuation, not yet looked at
                }
                h.CopyTo(z.AsSpan(row * K, H));
                row++;
            }
        }
        for (int r = 0; r < active; r++) sums[owner[r] - first] += maxSteps;
        for (int i = 0; i < count; i++) totals[first + i] = sums[i];
    }

    /// <summary>
    /// next[r, i] = ReLU(Σ_k w[i, k] z[r, k]) for rows 0 … rows − 1 (a multiple of 4) and units 0 … Hp − 1 (a multiple
    /// of 2), 4 rows × 2 units at a time in 256-bit lanes, each multiply-add fused (one rounding, on every machine).
    /// </summary>
    private static void Multiply(double[] w, double[] z, double[] next, int rows, int Hp, int K)
    {
        ref double wr = ref MemoryMarshal.GetArrayDataReference(w);
        ref double zr = ref MemoryMarshal.GetArrayDataReference(z);
        for (int r = 0; r < rows; r += 4)
        {
            nuint z0 = (nuint)(r * K), z1 = z0 + (nuint)K, z2 = z1 + (nuint)K, z3 = z2 + (nuint)K;
            for (int i = 0; i < Hp; i += 2)
            {
                nuint w0 = (nuint)(i * K), w1 = w0 + (nuint)K;
                Vector256<double> a00 = default, a01 = default, a10 = default, a11 = default,
                    a20 = default, a21 = default, a30 = default, a31 = default;
                for (nuint k = 0; k < (nuint)K; k += 4)
                {
                    var u = Vector256.LoadUnsafe(ref wr, w0 + k);
                    var v = Vector256.LoadUnsafe(ref wr, w1 + k);
                    var x = Vector256.LoadUnsafe(ref zr, z0 + k);
                    a00 = Vector256.FusedMultiplyAdd(u, x, a00); a01 = Vector256.FusedMultiplyAdd(v, x, a01);
                    x = Vector256.LoadUnsafe(ref zr, z1 + k);
                    a10 = Vector256.FusedMultiplyAdd(u, x, a10); a11 = Vector256.FusedMultiplyAdd(v, x, a11);
                    x = Vector256.LoadUnsafe(ref zr, z2 + k);
                    a20 = Vector256.FusedMultiplyAdd(u, x, a20); a21 = Vector256.FusedMultiplyAdd(v, x, a21);
                    x = Vector256.LoadUnsafe(ref zr, z3 + k);
                    a30 = Vector256.FusedMultiplyAdd(u, x, a30); a31 = Vector256.FusedMultiplyAdd(v, x, a31);
                }
                int o = r * Hp + i;
                next[o] = Relu(a00); next[o + 1] = Relu(a01);
                next[o + Hp] = Relu(a10); next[o + Hp + 1] = Relu(a11);
                next[o + 2 * Hp] = Relu(a20); next[o + 2 * Hp + 1] = Relu(a21);
                next[o + 3 * Hp] = Relu(a30); next[o + 3 * Hp + 1] = Relu(a31);
            }
        }
    }

    private static double Relu(Vector256<double> a)
    {
        var s = (a.GetElement(0) + a.GetElement(1)) + (a.GetElement(2) + a.GetElement(3));
        return s > 0 ? s : 0;
    }

    /// <summary>The arg-max of A h (lowest index on ties) and, when asked, its softmax probability.</summary>
    private static (int Symbol, double Probability) ArgMaxAndProbability(double[] readout, int O, int H, ReadOnlySpan<double> h, bool probability = true)
    {
        Span<double> y = O <= 64 ? stackalloc double[O] : new double[O];
        int best = 0;
        for (int o = 0; o < O; o++)
        {
            double s = 0;
            var row = readout.AsSpan(o * H, H);
            for (int j = 0; j < H; j++) s += row[j] * h[j];
            y[o] = s;
            if (s > y[best]) best = o;
        }
        if (!probability) return (best, double.NaN);
        double z = 0;
        for (int o = 0; o < O; o++) z += Math.Exp(y[o] - y[best]);
        return (best, 1 / z);
    }

    private static int Pad(int n, int multiple) => (n + multiple - 1) / multiple * multiple;

    private static ResidencyOptions Check(ResidencyOptions? o)
    {
        o ??= ResidencyOptions.Default;
        if (o.Continuations < 1) throw new ArgumentException($"Continuations = {o.Continuations} must be at least 1", "options");
        if (o.MaxSteps < 1) throw new ArgumentException($"MaxSteps = {o.MaxSteps} must be at least 1", "options");
        if (!double.IsFinite(o.TransitionBelow)) throw new ArgumentException($"TransitionBelow = {o.TransitionBelow} must be finite", "options");
        if (!(o.KickUpTo >= o.TransitionBelow && double.IsFinite(o.KickUpTo))) throw new ArgumentException($"KickUpTo = {o.KickUpTo} must be finite and ≥ TransitionBelow = {o.TransitionBelow}", "options");
        if (!(o.SlowProbability >= 0 && o.SlowProbability <= 1)) throw new ArgumentException($"SlowProbability = {o.SlowProbability} must be in [0, 1]", "options");
        return o;
    }
}
