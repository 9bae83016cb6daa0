using System.Collections.Immutable;
using System.Runtime.CompilerServices;

namespace HmmRnn.Core.HiddenMarkov;

/// <summary>The forward filter's result: log P(o_{0..T−1}) and P(z_t | o_{0..t}) for every t.</summary>
/// <param name="LogLikelihood">log P(o_{0..T−1}), the sum of the logs of the filter's normalisers.</param>
/// <param name="Filtered">P(z_t | o_{0..t}) for t = 0 … T−1.</param>
public sealed record FilterResult(double LogLikelihood, ImmutableArray<ProbabilityVector> Filtered);

/// <summary>
/// The forward filter part-way through a stream of outputs, as a value: what
/// <see cref="Filtering.Start"/> gives and <see cref="Filtering.Observe"/> advances one output at a time.
/// </summary>
/// <param name="Hmm">The model.</param>
/// <param name="Steps">Outputs taken in so far, t + 1 after o_t.</param>
/// <param name="Filtered">P(z_t | o_{0..t}) after o_t; before the first output, the distribution of z_0 (the model's initial one from <see cref="Filtering.Start"/>).</param>
/// <param name="LogLikelihood">log P(o_{0..t}) (0 before the first output).</param>
public sealed record ForwardState(Hmm Hmm, int Steps, ProbabilityVector Filtered, double LogLikelihood);

/// <summary>Filtered and smoothed marginals: P(z_t | o_{0..t}) and P(z_t | o_{0..T−1}).</summary>
/// <param name="LogLikelihood">log P(o_{0..T−1}).</param>
/// <param name="Filtered">P(z_t | o_{0..t}) for t = 0 … T−1.</param>
/// <param name="Smoothed">P(z_t | o_{0..T−1}) for t = 0 … T−1.</param>
public sealed record Posterior(double LogLikelihood, ImmutableArray<ProbabilityVector> Filtered, ImmutableArray<ProbabilityVector> Smoothed);

/// <summary>The most probable state path and its joint log-probability log P(z, o).</summary>
/// <param name="Path">The state at each step, z_0 … z_{T−1}.</param>
/// <param name="LogProbability">log P(z, o) of that path and the outputs.</param>
public sealed record ViterbiResult(ImmutableArray<int> Path, double LogProbability);

/// <summary>
/// Exact inference in an HMM (Rabiner 1989): the scaled forward filter, the backward pass,
/// smoothed marginals, the Viterbi path and the log-likelihood.
/// </summary>
/// <remarks>
/// The scaled recursions normalise the forward vector each step, so they do not underflow for
/// any T; the log-likelihood is the sum of the logs of the normalisers. A sequence the model
/// cannot emit has log-likelihood −∞; asking for its posterior is an error.
/// </remarks>
public static class Filtering
{
    /// <summary>The scaled forward filter.</summary>
    /// <exception cref="ArgumentException">empty sequence, or one of probability zero (the message names the step).</exception>
    /// <exception cref="ArgumentOutOfRangeException">a symbol outside [0, V).</exception>
    [OverloadResolutionPriority(1)] // a collection expression [..] picks the span overload
    public static FilterResult Forward(Hmm hmm, ReadOnlySpan<int> outputs)
    {
        ArgumentNullException.ThrowIfNull(hmm);
        hmm.CheckOutputs(outputs);
        var (filtered, scales) = ForwardPass(hmm, outputs, throwOnZero: true);
        return new FilterResult(SumLogs(scales), Wrap(filtered, hmm.States, outputs.Length));
    }

    /// <summary>The filter on an array (convenient from F#, where spans cannot live in closures).</summary>
    public static FilterResult Forward(Hmm hmm, ImmutableArray<int> outputs) => Forward(hmm, outputs.AsSpan());

    /// <summary>The forward filter before any output, ready for <see cref="Observe"/>: a live stream filtered one output at a time.</summary>
    public static ForwardState Start(Hmm hmm)
    {
        ArgumentNullException.ThrowIfNull(hmm);
        return new ForwardState(hmm, 0, hmm.Initial, 0);
    }

    /// <summary>
    /// Takes in the next output o_t: predicts through the transition (after the first output), weighs by the
    /// emission and normalises. Folding it over a sequence gives exactly <see cref="Forward(Hmm, ReadOnlySpan{int})"/>'s
    /// filtered rows and log-likelihood (the same arithmetic, in the same order).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">a symbol outside [0, V).</exception>
    /// <exception cref="ArgumentException">an output the model cannot emit here (probability 0; the message names the step).</exception>
    public static ForwardState Observe(ForwardState state, int output)
    {
        ArgumentNullException.ThrowIfNull(state);
        var hmm = state.Hmm;
        if ((uint)output >= (uint)hmm.Symbols)
            throw new ArgumentOutOfRangeException(nameof(output), output, $"output: symbol {output} at t = {state.Steps} is outside [0, {hmm.Symbols - 1}]");
        if (state.Filtered.Count != hmm.States)
            throw new ArgumentException($"state: Filtered has {state.Filtered.Count} states but the model has {hmm.States}", nameof(state));
        var row = new double[hmm.States];
        var c = StepInto(hmm, state.Filtered.AsSpan(), predict: state.Steps > 0, output, row);
        if (c == 0)
            throw new ArgumentException($"output: the model cannot emit this sequence (probability 0 at t = {state.Steps}, symbol {output})", nameof(output));
        return new ForwardState(hmm, state.Steps + 1, ProbabilityVector.Trusted(row), state.LogLikelihood + Math.Log(c));
    }

    /// <summary>Filtered and smoothed marginals (forward–backward).</summary>
    [OverloadResolutionPriority(1)] // a collection expression [..] picks the span overload
    public static Posterior Smooth(Hmm hmm, ReadOnlySpan<int> outputs)
    {
        ArgumentNullException.ThrowIfNull(hmm);
        hmm.CheckOutputs(outputs);
        int k = hmm.States, T = outputs.Length;
        var (alpha, scales) = ForwardPass(hmm, outputs, throwOnZero: true);
        var beta = BackwardPass(hmm, outputs, scales);
        var smoothed = new double[T * k];
        for (int t = 0; t < T; t++)
        {
            var s = 0.0;
            for (int i = 0; i < k; i++) s += smoothed[t * k + i] = alpha[t * k + i] * beta[t * k + i];
            for (int i = 0; i < k; i++) smoothed[t * k + i] /= s;
        }
        return new Posterior(SumLogs(scales), Wrap(alpha, k, T), Wrap(smoothed, k, T));
    }

    /// <summary>Smoothing on an array.</summary>
    public static Posterior Smooth(Hmm hmm, ImmutableArray<int> outputs) => Smooth(hmm, outputs.AsSpan());

    /// <summary>
    /// The scaled backward variables β̂_t(i) = P(o_{t+1..T−1} | z_t = i) / Π_{s>t} c_s, row t at [t·K, (t+1)·K).
    /// With the filtered α̂_t, α̂_t(i)·β̂_t(i) is P(z_t = i | o).
    /// </summary>
    [OverloadResolutionPriority(1)] // a collection expression [..] picks the span overload
    public static ImmutableArray<double> Backward(Hmm hmm, ReadOnlySpan<int> outputs)
    {
        ArgumentNullException.ThrowIfNull(hmm);
        hmm.CheckOutputs(outputs);
        var (_, scales) = ForwardPass(hmm, outputs, throwOnZero: true);
        return ImmutableArray.Create(BackwardPass(hmm, outputs, scales));
    }

    /// <summary>log P(o_{0..T−1}); −∞ for a sequence the model cannot emit. Allocation-free for K ≤ 64.</summary>
    [OverloadResolutionPriority(1)] // a collection expression [..] picks the span overload
    public static double LogLikelihood(Hmm hmm, ReadOnlySpan<int> outputs)
    {
        ArgumentNullException.ThrowIfNull(hmm);
        hmm.CheckOutputs(outputs);
        return new ForwardKernel(hmm).LogLikelihood(outputs);
    }

    /// <summary>log P(o) on an array.</summary>
    public static double LogLikelihood(Hmm hmm, ImmutableArray<int> outputs) => LogLikelihood(hmm, outputs.AsSpan());

    /// <summary>
    /// log P(o) of every sequence, in parallel over sequences when <paramref name="parallel"/> is set.
    /// The result does not depend on the number of threads.
    /// </summary>
    public static ImmutableArray<double> LogLikelihoods(Hmm hmm, IReadOnlyList<ImmutableArray<int>> sequences, bool parallel = true)
    {
        ArgumentNullException.ThrowIfNull(hmm);
        ArgumentNullException.ThrowIfNull(sequences);
        for (int n = 0; n < sequences.Count; n++)
            if (!hmm.AreValidOutputs(sequences[n].AsSpan())) hmm.CheckOutputs(sequences[n].AsSpan(), $"sequences[{n}]");
        // Sequences go in fixed groups of one SIMD width (lanes = sequences); a group whose lengths
        // differ, and the tail, go one by one. The grouping depends only on the order of the
        // sequences, so the result does not depend on the number of threads.
        var result = new double[sequences.Count];
        var lanes = BatchedForwardKernel.Lanes;
        int groups = (sequences.Count + lanes - 1) / lanes;
        var single = new ForwardKernel(hmm);
        var batched = new BatchedForwardKernel(hmm);
        void Group(int g, ForwardKernel one, BatchedForwardKernel many)
        {
            int start = g * lanes, count = Math.Min(lanes, sequences.Count - start);
            if (count == lanes && many.TryLogLikelihoods(sequences, start, result)) return;
            for (int n = start; n < start + count; n++) result[n] = one.LogLikelihood(sequences[n].AsSpan());
        }
        if (parallel && groups > 1)
            Parallel.For(0, groups, () => (single.Clone(), batched.Clone()), (g, _, k) =>
            {
                Group(g, k.Item1, k.Item2);
                return k;
            }, _ => { });
        else
            for (int g = 0; g < groups; g++) Group(g, single, batched);
        return ImmutableArray.Create(result);
    }

    /// <summary>The most probable state path (ties go to the lower state index) and log P(path, o).</summary>
    [OverloadResolutionPriority(1)] // a collection expression [..] picks the span overload
    public static ViterbiResult Viterbi(Hmm hmm, ReadOnlySpan<int> outputs)
    {
        ArgumentNullException.ThrowIfNull(hmm);
        hmm.CheckOutputs(outputs);
        int k = hmm.States, T = outputs.Length;
        var logA = Logs(hmm.Transition.AsSpan());
        var logB = Logs(hmm.Emission.AsSpan());
        var delta = new double[k];
        var next = new double[k];
        var back = new int[T * k];
        for (int i = 0; i < k; i++) delta[i] = Math.Log(hmm.Initial[i]) + logB[i * hmm.Symbols + outputs[0]];
        for (int t = 1; t < T; t++)
        {
            for (int j = 0; j < k; j++)
            {
                double best = double.NegativeInfinity;
                int arg = 0;
                for (int i = 0; i < k; i++)
                {
                    var v = delta[i] + logA[i * k + j];
                    if (v > best) { best = v; arg = i; }
                }
                next[j] = best + logB[j * hmm.Symbols + outputs[t]];
                back[t * k + j] = arg;
            }
            (delta, next) = (next, delta);
        }
        int last = 0;
        for (int i = 1; i < k; i++) if (delta[i] > delta[last]) last = i;
        var path = new int[T];
        path[T - 1] = last;
        for (int t = T - 1; t > 0; t--) path[t - 1] = back[t * k + path[t]];
        return new ViterbiResult(ImmutableArray.Create(path), delta[last]);
    }

    /// <summary>Viterbi on an array.</summary>
    public static ViterbiResult Viterbi(Hmm hmm, ImmutableArray<int> outputs) => Viterbi(hmm, outputs.AsSpan());

    // ---- the recursions -----------------------------------------------------------------

    /// <summary>α̂ (T × K, row-major, each row normalised) and the normalisers c_t.</summary>
    private static (double[] Alpha, double[] Scales) ForwardPass(Hmm hmm, ReadOnlySpan<int> outputs, bool throwOnZero)
    {
        int k = hmm.States, T = outputs.Length;
        var alpha = new double[T * k];
        var scales = new double[T];
        for (int t = 0; t < T; t++)
        {
            var o = outputs[t];
            var c = t == 0
                ? StepInto(hmm, hmm.Initial.AsSpan(), predict: false, o, alpha.AsSpan(0, k))
                : StepInto(hmm, alpha.AsSpan((t - 1) * k, k), predict: true, o, alpha.AsSpan(t * k, k));
            scales[t] = c;
            if (c == 0)
            {
                if (throwOnZero)
                    throw new ArgumentException($"outputs: the model cannot emit this sequence (probability 0 at t = {t}, symbol {o})", "outputs");
                return (alpha, scales);
            }
        }
        return (alpha, scales);
    }

    /// <summary>
    /// One step of the scaled forward recursion, written into <paramref name="row"/> (K entries, zero on entry):
    /// (α̂_{t−1} A) ∘ B[:, o] when <paramref name="predict"/>, else <paramref name="previous"/> ∘ B[:, o] (the first
    /// output, <paramref name="previous"/> = π); then normalised. Returns the normaliser c_t = P(o_t | o_{0..t−1});
    /// on 0 the row is left unnormalised.
    /// </summary>
    private static double StepInto(Hmm hmm, ReadOnlySpan<double> previous, bool predict, int o, Span<double> row)
    {
        int k = hmm.States, v = hmm.Symbols;
        var a = hmm.Transition.AsSpan();
        var b = hmm.Emission.AsSpan();
        if (!predict)
            for (int j = 0; j < k; j++) row[j] = previous[j] * b[j * v + o];
        else
        {
            for (int i = 0; i < k; i++)
            {
                var p = previous[i];
                if (p == 0) continue;
                var ai = a.Slice(i * k, k);
                for (int j = 0; j < k; j++) row[j] += p * ai[j];
            }
            for (int j = 0; j < k; j++) row[j] *= b[j * v + o];
        }
        var c = 0.0;
        foreach (var x in row) c += x;
        if (c == 0) return 0;
        var inv = 1.0 / c;
        foreach (ref var x in row) x *= inv;
        return c;
    }

    private static double[] BackwardPass(Hmm hmm, ReadOnlySpan<int> outputs, double[] scales)
    {
        int k = hmm.States, v = hmm.Symbols, T = outputs.Length;
        var a = hmm.Transition.AsSpan();
        var b = hmm.Emission.AsSpan();
        var beta = new double[T * k];
        beta.AsSpan((T - 1) * k, k).Fill(1.0);
        var tmp = new double[k];
        for (int t = T - 2; t >= 0; t--)
        {
            var o = outputs[t + 1];
            var next = beta.AsSpan((t + 1) * k, k);
            for (int j = 0; j < k; j++) tmp[j] = b[j * v + o] * next[j];
            var row = beta.AsSpan(t * k, k);
            var inv = 1.0 / scales[t + 1];
            for (int i = 0; i < k; i++)
            {
                var ai = a.Slice(i * k, k);
                var s = 0.0;
                for (int j = 0; j < k; j++) s += ai[j] * tmp[j];
                row[i] = s * inv;
            }
        }
        return beta;
    }

    private static double SumLogs(double[] scales)
    {
        var s = 0.0;
        foreach (var c in scales) s += Math.Log(c);
        return s;
    }

    private static double[] Logs(ReadOnlySpan<double> p)
    {
        var r = new double[p.Length];
        for (int i = 0; i < p.Length; i++) r[i] = Math.Log(p[i]);
        return r;
    }

    private static ImmutableArray<ProbabilityVector> Wrap(double[] rows, int k, int T)
    {
        var b = ImmutableArray.CreateBuilder<ProbabilityVector>(T);
        for (int t = 0; t < T; t++) b.Add(ProbabilityVector.Trusted(rows.AsSpan(t * k, k).ToArray()));
        return b.MoveToImmutable();
    }
}
