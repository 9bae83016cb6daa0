using System.Collections.Immutable;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace HmmRnn.Core.HiddenMarkov;

// The SIMD kernels behind Filtering.LogLikelihood and Filtering.LogLikelihoods: internal, one instance per thread.

/// <summary>
/// The forward recursion for the log-likelihood only, laid out for SIMD: K padded to a
/// multiple of the vector width, the transition row-major, the emission stored per symbol
/// (column of B), the log taken only when the running product of normalisers nears underflow.
/// One instance per thread (it owns scratch buffers).
/// </summary>
internal sealed class ForwardKernel
{
    private readonly int _k, _kp;
    private readonly double[] _a;        // Kp × Kp, zero-padded
    private readonly double[] _bt;       // V × Kp: _bt[o·Kp + j] = B[j, o]
    private readonly double[] _pi;       // Kp
    private readonly double[] _alpha, _next;

    public ForwardKernel(Hmm hmm)
    {
        _k = hmm.States;
        var w = Vector<double>.Count;
        _kp = (_k + w - 1) / w * w;
        _a = new double[_kp * _kp];
        for (int i = 0; i < _k; i++)
            hmm.Transition.Row(i).CopyTo(_a.AsSpan(i * _kp, _k));
        _bt = new double[hmm.Symbols * _kp];
        for (int j = 0; j < _k; j++)
            for (int o = 0; o < hmm.Symbols; o++) _bt[o * _kp + j] = hmm.Emission[j, o];
        _pi = new double[_kp];
        hmm.Initial.AsSpan().CopyTo(_pi);
        _alpha = new double[_kp];
        _next = new double[_kp];
    }

    private ForwardKernel(ForwardKernel other)
    {
        (_k, _kp, _a, _bt, _pi) = (other._k, other._kp, other._a, other._bt, other._pi);
        _alpha = new double[_kp];
        _next = new double[_kp];
    }

    /// <summary>The same model with its own scratch space, for another thread.</summary>
    public ForwardKernel Clone() => new(this);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public double LogLikelihood(ReadOnlySpan<int> outputs)
    {
        var alphaV = MemoryMarshal.Cast<double, Vector<double>>(_alpha.AsSpan());
        var nextV = MemoryMarshal.Cast<double, Vector<double>>(_next.AsSpan());
        var aV = MemoryMarshal.Cast<double, Vector<double>>(_a.AsSpan());
        var btV = MemoryMarshal.Cast<double, Vector<double>>(_bt.AsSpan());
        var piV = MemoryMarshal.Cast<double, Vector<double>>(_pi.AsSpan());
        int blocks = alphaV.Length;

        double logLik = 0, product = 1;
        for (int t = 0; t < outputs.Length; t++)
        {
            var e = btV.Slice(outputs[t] * blocks, blocks);
            if (t == 0)
                for (int q = 0; q < blocks; q++) nextV[q] = piV[q] * e[q];
            else
            {
                for (int q = 0; q < blocks; q++) nextV[q] = Vector<double>.Zero;
                for (int i = 0; i < _k; i++)
                {
                    var p = new Vector<double>(_alpha[i]);
                    var row = aV.Slice(i * blocks, blocks);
                    for (int q = 0; q < blocks; q++) nextV[q] += p * row[q];
                }
                for (int q = 0; q < blocks; q++) nextV[q] *= e[q];
            }
            var sumV = Vector<double>.Zero;
            for (int q = 0; q < blocks; q++) sumV += nextV[q];
            var c = Vector.Sum(sumV);
            if (c == 0) return double.NegativeInfinity;
            var inv = new Vector<double>(1.0 / c);
            for (int q = 0; q < blocks; q++) alphaV[q] = nextV[q] * inv;
            product = Accumulate(product, c, ref logLik);
        }
        return logLik + Math.Log(product);
    }

    /// <summary>Multiplies the normaliser into a running product, moving it into the log before it underflows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Accumulate(double product, double c, ref double logLik)
    {
        if (c < 1e-100) { logLik += Math.Log(c); return product; }
        product *= c;
        if (product < 1e-150) { logLik += Math.Log(product); return 1; }
        return product;
    }
}

/// <summary>
/// The forward recursion for <see cref="Lanes"/> sequences of equal length at once, one sequence
/// per SIMD lane (256-bit vectors: 4 doubles). One sequence alone is latency-bound (each step
/// waits for the last one's normaliser); lanes share that wait. Same arithmetic as
/// <see cref="ForwardKernel"/>, lane by lane. One instance per thread (it owns scratch buffers).
/// </summary>
internal sealed class BatchedForwardKernel
{
    /// <summary>Sequences per batch; 1 (no batching) where 256-bit vectors are not accelerated.</summary>
    public static int Lanes => Vector256.IsHardwareAccelerated ? Vector256<double>.Count : 1;

    private const double Flush = 1e-150;
    private readonly int _k;
    private readonly Vector256<double>[] _a;   // K × K broadcast entries of A
    private readonly Vector256<double>[] _pi;  // K broadcast entries of π
    private readonly double[] _bt;             // V × K: _bt[o·K + j] = B[j, o]
    private readonly Vector256<double>[] _alpha, _next;
    private int[] _offsets = [];               // T × Lanes, time-major: symbol · K

    public BatchedForwardKernel(Hmm hmm)
    {
        _k = hmm.States;
        _a = new Vector256<double>[_k * _k];
        for (int i = 0; i < _k; i++)
            for (int j = 0; j < _k; j++) _a[i * _k + j] = Vector256.Create(hmm.Transition[i, j]);
        _pi = new Vector256<double>[_k];
        for (int j = 0; j < _k; j++) _pi[j] = Vector256.Create(hmm.Initial[j]);
        _bt = new double[hmm.Symbols * _k];
        for (int j = 0; j < _k; j++)
            for (int o = 0; o < hmm.Symbols; o++) _bt[o * _k + j] = hmm.Emission[j, o];
        _alpha = new Vector256<double>[_k];
        _next = new Vector256<double>[_k];
    }

    private BatchedForwardKernel(BatchedForwardKernel o)
    {
        (_k, _a, _pi, _bt) = (o._k, o._a, o._pi, o._bt);
        _alpha = new Vector256<double>[_k];
        _next = new Vector256<double>[_k];
    }

    public BatchedForwardKernel Clone() => new(this);

    /// <summary>B[j, o_l] for the four lanes' current symbols (offsets o_l = symbol · K).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Emission(ReadOnlySpan<double> bt, int o0, int o1, int o2, int o3, int j) =>
        Vector256.Create(bt[o0 + j], bt[o1 + j], bt[o2 + j], bt[o3 + j]);

    /// <summary>Writes log P(o) of sequences[start .. start+4) into result; false if batching is off or their lengths differ.</summary>
    // Hot loop: fully optimised at first call, so callers' timings do not depend on JIT tiering.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryLogLikelihoods(IReadOnlyList<ImmutableArray<int>> sequences, int start, double[] result)
    {
        if (Lanes != 4) return false;
        int k = _k, T = sequences[start].Length;
        for (int l = 1; l < 4; l++)
            if (sequences[start + l].Length != T) return false;
        if (_offsets.Length < 4 * T) _offsets = new int[4 * T];
        var offsets = _offsets.AsSpan(0, 4 * T);
        for (int l = 0; l < 4; l++)
        {
            var s = sequences[start + l].AsSpan();
            for (int t = 0; t < T; t++) offsets[t * 4 + l] = s[t] * k;
        }

        Span<Vector256<double>> alpha = _alpha, next = _next;
        ReadOnlySpan<Vector256<double>> a = _a;
        ReadOnlySpan<double> bt = _bt;
        var product = Vector256<double>.One;
        var logLik = Vector256<double>.Zero;
        var dead = Vector256<double>.Zero;  // lanes that met a zero normaliser (all bits set)
        var flush = Vector256.Create(Flush);
        for (int t = 0; t < T; t++)
        {
            int o0 = offsets[4 * t], o1 = offsets[4 * t + 1], o2 = offsets[4 * t + 2], o3 = offsets[4 * t + 3];
            var c = Vector256<double>.Zero;
            if (t == 0)
                for (int j = 0; j < k; j++) c += next[j] = _pi[j] * Emission(bt, o0, o1, o2, o3, j);
            else
            {
                // next[j] = (Σ_i α_i A_ij) · B_j,o — four output states at a time, so each α_i load
                // feeds four independent accumulators.
                int j = 0;
                for (; j + 4 <= k; j += 4)
                {
                    Vector256<double> s0 = default, s1 = default, s2 = default, s3 = default;
                    for (int i = 0; i < k; i++)
                    {
                        var ai = alpha[i];
                        var row = a.Slice(i * k + j, 4);
                        s0 = Vector256.FusedMultiplyAdd(ai, row[0], s0);
                        s1 = Vector256.FusedMultiplyAdd(ai, row[1], s1);
                        s2 = Vector256.FusedMultiplyAdd(ai, row[2], s2);
                        s3 = Vector256.FusedMultiplyAdd(ai, row[3], s3);
                    }
                    c += next[j] = s0 * Emission(bt, o0, o1, o2, o3, j);
                    c += next[j + 1] = s1 * Emission(bt, o0, o1, o2, o3, j + 1);
                    c += next[j + 2] = s2 * Emission(bt, o0, o1, o2, o3, j + 2);
                    c += next[j + 3] = s3 * Emission(bt, o0, o1, o2, o3, j + 3);
                }
                for (; j < k; j++)
                {
                    var sum = Vector256<double>.Zero;
                    for (int i = 0; i < k; i++) sum = Vector256.FusedMultiplyAdd(alpha[i], a[i * k + j], sum);
                    c += next[j] = sum * Emission(bt, o0, o1, o2, o3, j);
                }
            }
            var zero = Vector256.Equals(c, Vector256<double>.Zero);
            if (zero != Vector256<double>.Zero)
            {
                dead |= zero;
                c = Vector256.ConditionalSelect(zero, Vector256<double>.One, c); // keep the dead lane finite
            }
            var inv = Vector256<double>.One / c;
            for (int j = 0; j < alpha.Length; j++) alpha[j] = next[j] * inv;
            var tiny = Vector256.LessThan(c, flush);
            if (tiny != Vector256<double>.Zero)
            {
                // A tiny normaliser goes straight into the log (rare).
                logLik += Vector256.ConditionalSelect(tiny, Vector256.Log(c), Vector256<double>.Zero);
                c = Vector256.ConditionalSelect(tiny, Vector256<double>.One, c);
            }
            product *= c;
            var low = Vector256.LessThan(product, flush);
            if (low != Vector256<double>.Zero)
            {
                logLik += Vector256.ConditionalSelect(low, Vector256.Log(product), Vector256<double>.Zero);
                product = Vector256.ConditionalSelect(low, Vector256<double>.One, product);
            }
        }
        logLik += Vector256.Log(product);
        for (int l = 0; l < 4; l++)
            result[start + l] = double.IsNaN(dead.GetElement(l)) ? double.NegativeInfinity : logLik.GetElement(l); // all bits set reads as NaN
        return true;
    }
}
