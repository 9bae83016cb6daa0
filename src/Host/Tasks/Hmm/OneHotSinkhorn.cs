using System.Buffers;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using HmmRnn.Analysis.Numerics;
using HmmRnn.Host.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace HmmRnn.Host.Tasks.Hmm;

/// <summary>Which implementation of <see cref="SinkhornLoss.Divergence"/> runs.</summary>
public enum SinkhornKernel
{
    /// <summary><see cref="OneHotSinkhorn"/> where it applies (CPU float32 clouds whose entries are all 0 or 1), the general loss otherwise.</summary>
    Auto,
    /// <summary>The general tensor loss: any points, any device, any floating dtype.</summary>
    General,
    /// <summary><see cref="OneHotSinkhorn"/>; an entry other than 0 or 1, or a GPU tensor, is an error.</summary>
    OneHot,
}

/// <summary>
/// <see cref="SinkhornLoss"/> for clouds of binary points — the training loss's one-hot sequences — with the same value and
/// the same gradient (same ε-schedule, same symmetric updates, same final extrapolation, float32 like the general loss),
/// built on the cost's integer structure instead of n×m float matrices.
/// </summary>
/// <remarks>
/// <para>For 0/1 vectors with s_i and s'_j ones, ½‖x_i − y_j‖² = ½s_i + ½s'_j − M_ij, where M_ij = x_i·y_j counts the shared
/// ones (for sequences of T one-hot rows: s = T and M is the number of positions where both emit the same symbol). M is
/// computed for every pair by AND and popcount of bit-packed rows and kept as bytes (16 MB at n = 4096, a quarter of one
/// float32 cost matrix). Every soft-min −ε log Σ_j exp(h_j − C_ij/ε) then pulls ½s_i out of the row and ½s'_j into h_j,
/// and reads only M: z_ij = M_ij/ε + h'_j, in one fused pass per row (the row maximum, then Σ exp(max(z − max, −60)) with a
/// vectorised float32 exponential), the row held in L1 between the two sweeps; no n×m temporary is written. The soft-min over
/// x for a point of y runs down a column of M_xy, a vector of columns at a time, so no transpose is kept.</para>
/// <para>Where every point has at most 127 ones (one-hot sequences of T ≤ 127: all the paper's models) and the CPU has
/// AVX-512, the rows go through <see cref="LevelTable"/> instead: M takes at most T + 1 values, so a row's exponentials are
/// T + 1 factors looked up by permutes (32 entries a register pair), times exp(h'_j) computed once a pass; g's soft-min then runs along the rows of M_yx
/// (computed like M_xy) instead of down columns. A row the table cannot resolve in float32 is recomputed by the fused
/// exponential pass. Regrouping each row by level with a scatter into T + 1 bins was measured first and was slower than the
/// exponential (≈ 40 ms a pass against 8–12 ms a core). docs/benchmarks.md, issue 23.</para>
/// <para>The gradient is <see cref="SinkhornLoss"/>'s: a_i ((Q x̄)_i − (P y)_i), with P and Q the row-normalised weights of
/// the final extrapolation's two soft-minima, which the last two passes write into one pooled float32 buffer that torch
/// multiplies in place (<c>frombuffer</c>, no copy). Buffers come from <see cref="ArrayPool{T}.Shared"/>, so a training
/// run pays the page faults of its large arrays once.</para>
/// </remarks>
public static class OneHotSinkhorn
{
    /// <summary>Largest number of ones in a point: M_ij is stored as a byte.</summary>
    public const int MaxOnes = 255;

    /// <summary>S_ε(x, y) for binary x [n, D] and y [m, D] (CPU, float32); differentiable in x as <see cref="SinkhornLoss.Divergence"/>.</summary>
    /// <exception cref="ArgumentException">a cloud on another device or dtype, or with an entry other than 0 or 1, or a point with more than <see cref="MaxOnes"/> ones.</exception>
    public static Tensor Divergence(Tensor x, Tensor y, SinkhornOptions options) =>
        TryDivergence(x, y, options) ?? throw new ArgumentException(
            $"the one-hot Sinkhorn kernel needs two CPU float32 clouds [n, D] of the same D whose entries are all 0 or 1, with at most {MaxOnes} ones a point", nameof(x));

    /// <summary><see cref="Divergence"/>, or null where the clouds are not binary CPU float32 clouds (the caller falls back to the general loss).</summary>
    /// <param name="x">The generated cloud.</param>
    /// <param name="y">The data.</param>
    /// <param name="options">Blur and scaling.</param>
    /// <param name="width">The soft-min's vectors, at most <see cref="Widest"/>; null: the widest this CPU runs (tests pin each one).</param>
    /// <param name="resolvable">The level table's row sums below which a row is recomputed by the exponential (tests move it: +∞ sends
    /// every row there, 0 none).</param>
    internal static Tensor? TryDivergence(Tensor x, Tensor y, SinkhornOptions options, VectorWidth? width = null, double resolvable = LevelTable.Resolvable)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(options);
        if (x.device_type != DeviceType.CPU || y.device_type != DeviceType.CPU || x.dtype != ScalarType.Float32 || y.dtype != ScalarType.Float32
            || x.dim() != 2 || y.dim() != 2 || x.shape[1] != y.shape[1] || x.shape[0] < 1 || y.shape[0] < 1
            || x.shape[0] * Math.Max(x.shape[0], y.shape[0]) > Array.MaxLength || y.shape[0] * y.shape[0] > Array.MaxLength)
            return null;
        using var scope = NewDisposeScope();
        Tensor xd = x.detach().contiguous(), yd = y.detach().contiguous();
        int n = (int)x.shape[0], m = (int)y.shape[0], dim = (int)x.shape[1];
        var bx = BinaryCloud.Pack(MemoryMarshal.Cast<byte, float>(xd.bytes), n, dim);
        var by = bx is null ? null : BinaryCloud.Pack(MemoryMarshal.Cast<byte, float>(yd.bytes), m, dim);
        if (bx is null || by is null) return null;

        // Without a gradient to take (validation, under no_grad) the final passes write no weights and torch multiplies nothing.
        bool differentiable = x.requires_grad && is_grad_enabled();
        var (value, py, qx) = Solve(bx, by, options, xd, yd, (VectorWidth)Math.Min((int)(width ?? Widest), (int)Widest), differentiable, resolvable);
        if (py is null || qx is null) return tensor(value, dtype: x.dtype, device: x.device).MoveToOuterDisposeScope();
        Tensor gradient;
        using (no_grad())
            gradient = qx.sub_(py).Times_(1.0 / n);
        // As SinkhornLoss: value + ⟨x, ∇⟩ − ⟨x, ∇⟩ detached, the value unchanged and the gradient ∇.
        var linear = (x * gradient).sum();
        var result = tensor(value, dtype: x.dtype, device: x.device) + (linear - linear.detach());
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The Sinkhorn loop of <see cref="SinkhornLoss"/> (and <see cref="Analysis.Numerics.Sinkhorn"/>) on the match counts; returns the divergence
    /// and, when <paramref name="differentiable"/>, the two products of the gradient, P y [n, D] and Q x̄ [n, D] (torch tensors in
    /// the current dispose scope).
    /// </summary>
    private static (double Value, Tensor? Py, Tensor? Qx) Solve(BinaryCloud x, BinaryCloud y, SinkhornOptions options, Tensor xd, Tensor yd,
        VectorWidth width, bool differentiable, double resolvable)
    {
        int n = x.Count, m = y.Count;
        // The level table holds levels 0 … 127: every M_ij ≤ min(s_i, s'_j).
        bool table = width == VectorWidth.Bits512Levels && Math.Max(x.Ones.Max(), y.Ones.Max()) < LevelTable.Size;
        var exact = width == VectorWidth.Bits512Levels ? VectorWidth.Bits512 : width;
        var pool = ArrayPool<byte>.Shared;
        var rented = new List<byte[]>(4);
        byte[] Rent(int size)
        {
            var buffer = pool.Rent(size);
            rented.Add(buffer);
            return buffer;
        }
        float[]? weights = null;
        try
        {
            byte[] mxy = Rent(n * m), mxx = Rent(n * n), myy = Rent(m * m);
            // With the table every soft-min is a row pass: g's runs along the rows of M_yx instead of down the columns of M_xy.
            byte[]? myx = table ? Rent(m * n) : null;
            if (differentiable) weights = ArrayPool<float>.Shared.Rent(n * Math.Max(n, m));
            Levels.Matches(x, y, mxy);
            Levels.Matches(x, x, mxx);
            Levels.Matches(y, y, myy);
            if (myx is not null) Levels.Matches(y, x, myx);
            byte[]? topXy = null, topYx = null, topXx = null, topYy = null;
            if (table)
                (topXy, topYx, topXx, topYy) = (LevelTable.RowMaxima(mxy, n, m), LevelTable.RowMaxima(myx!, m, n), LevelTable.RowMaxima(mxx, n, n), LevelTable.RowMaxima(myy, m, m));
            double aLog = -Math.Log(n), bLog = -Math.Log(m);
            var eps = options.Epsilons(BinaryCloud.Diameter(x, y));
            SoftMinPass Xy(double e, double[]? g, float[]? w = null) => new(e, mxy, x, y, bLog, g, w, exact, RowMax: topXy, Resolvable: resolvable);
            SoftMinPass Yx(double e, double[]? f) => myx is null
                ? new(e, mxy, y, x, aLog, f, null, exact, ByColumn: true)
                : new(e, myx, y, x, aLog, f, null, exact, RowMax: topYx, Resolvable: resolvable);
            SoftMinPass Xx(double e, double[]? fa, float[]? w = null) => new(e, mxx, x, x, aLog, fa, w, exact, RowMax: topXx, Resolvable: resolvable);
            SoftMinPass Yy(double e, double[]? gb) => new(e, myy, y, y, bLog, gb, null, exact, RowMax: topYy, Resolvable: resolvable);

            // C_yx = C_xyᵀ: the soft-minimum over x for a point of y runs down a column of M_xy.
            var gAb = Yx(eps[0], null).Run(); var fBa = Xy(eps[0], null).Run();
            var fAa = Xx(eps[0], null).Run(); var gBb = Yy(eps[0], null).Run();
            foreach (var e in eps)
            {
                var ftBa = Xy(e, gAb).Run();
                var gtAb = Yx(e, fBa).Run();
                var ftAa = Xx(e, fAa).Run();
                var gtBb = Yy(e, gBb).Run();
                Average(fBa, ftBa); Average(gAb, gtAb); Average(fAa, ftAa); Average(gBb, gtBb);
            }
            var last = eps[^1];
            var f = Xy(last, gAb, weights).Run();
            var py = weights is null ? null : Multiply(weights, n, m, yd);
            var fa = Xx(last, fAa, weights).Run();
            var qx = weights is null ? null : Multiply(weights, n, n, xd);
            var g = Yx(last, fBa).Run();
            var gb = Yy(last, gBb).Run();
            double value = 0;
            for (int i = 0; i < n; i++) value += (f[i] - fa[i]) / n;
            for (int j = 0; j < m; j++) value += (g[j] - gb[j]) / m;
            return (value, py, qx);
        }
        finally
        {
            foreach (var buffer in rented) pool.Return(buffer);
            if (weights is not null) ArrayPool<float>.Shared.Return(weights);
        }
    }

    /// <summary>W [rows, cols] (the first rows·cols entries of <paramref name="weights"/>, shared with torch, not copied) times <paramref name="points"/> [cols, D].</summary>
    private static Tensor Multiply(float[] weights, int rows, int cols, Tensor points)
    {
        using var scope = NewDisposeScope();
        // Every tensor over the pinned array is disposed with this scope, before the array is written again or returned to the pool.
        using var w = frombuffer(weights, ScalarType.Float32, count: (long)rows * cols);
        return w.view(rows, cols).matmul(points).MoveToOuterDisposeScope();
    }

    private static void Average(double[] into, double[] other)
    {
        for (int i = 0; i < into.Length; i++) into[i] = 0.5 * (into[i] + other[i]);
    }

    /// <summary>A cloud of binary points, bit-packed: point i is the <see cref="Words"/> words from i·Words, bit k of the point at bit k % 64 of word k / 64.</summary>
    internal sealed class BinaryCloud
    {
        private BinaryCloud(ulong[] bits, int[] ones, int count, int words) => (Bits, Ones, Count, Words) = (bits, ones, count, words);

        /// <summary>The packed bits, Count × Words.</summary>
        public ulong[] Bits { get; }
        /// <summary>s_i, the ones of each point.</summary>
        public int[] Ones { get; }
        /// <summary>Number of points.</summary>
        public int Count { get; }
        /// <summary>64-bit words a point.</summary>
        public int Words { get; }

        /// <summary>Packs <paramref name="count"/> points of <paramref name="dim"/> values; null where a value is not 0 or 1 or a point has more than <see cref="MaxOnes"/> ones.</summary>
        public static BinaryCloud? Pack(ReadOnlySpan<float> values, int count, int dim)
        {
            int words = (dim + 63) / 64;
            var bits = new ulong[count * words];
            var ones = new int[count];
            for (int i = 0; i < count; i++)
            {
                var row = values.Slice(i * dim, dim);
                int s = 0;
                for (int k = 0; k < dim; k++)
                {
                    var v = row[k];
                    if (v == 1) { bits[i * words + (k >> 6)] |= 1UL << (k & 63); s++; }
                    else if (v != 0) return null;
                }
                if (s > MaxOnes) return null;
                ones[i] = s;
            }
            return new BinaryCloud(bits, ones, count, words);
        }

        /// <summary>
        /// geomloss's diameter ‖max − min‖ over the coordinates of both clouds: for 0/1 points, √(number of coordinates on
        /// which some two points differ).
        /// </summary>
        public static double Diameter(BinaryCloud x, BinaryCloud y)
        {
            int words = x.Words, varying = 0;
            for (int w = 0; w < words; w++)
            {
                ulong any = 0, all = ~0UL;
                foreach (var c in new[] { x, y })
                    for (int i = 0; i < c.Count; i++) { any |= c.Bits[i * words + w]; all &= c.Bits[i * words + w]; }
                varying += BitOperations.PopCount(any & ~all);
            }
            return Math.Sqrt(varying);
        }
    }

    /// <summary>The match counts M_ij = popcount(a_i AND b_j) of two bit-packed clouds, as bytes.</summary>
    internal static class Levels
    {
        /// <summary>Writes M [a.Count, b.Count] row-major into the first a.Count · b.Count bytes of <paramref name="into"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Matches(BinaryCloud a, BinaryCloud b, byte[] into)
        {
            int words = a.Words, m = b.Count;
            ulong[] ab = a.Bits, bb = b.Bits;
            if (words <= 2 && m >= 8 && Avx512BW.IsSupported && Vector512.IsHardwareAccelerated)
            {
                Matches512(a, b, into);
                return;
            }
            Parallel.For(0, Blocks(a.Count), block =>
            {
                var (from, to) = BlockRange(block, a.Count);
                for (int i = from; i < to; i++)
                {
                    ref byte row = ref into[(long)i * m];
                    ref ulong bj = ref bb[0];
                    if (words == 1)
                    {
                        ulong a0 = ab[i];
                        for (int j = 0; j < m; j++) Unsafe.Add(ref row, j) = (byte)BitOperations.PopCount(a0 & Unsafe.Add(ref bj, j));
                    }
                    else if (words == 2)
                    {
                        ulong a0 = ab[2 * i], a1 = ab[2 * i + 1];
                        for (int j = 0; j < m; j++)
                            Unsafe.Add(ref row, j) = (byte)(BitOperations.PopCount(a0 & Unsafe.Add(ref bj, 2 * j)) + BitOperations.PopCount(a1 & Unsafe.Add(ref bj, 2 * j + 1)));
                    }
                    else
                    {
                        ref ulong ai = ref ab[i * words];
                        for (int j = 0; j < m; j++)
                        {
                            int c = 0;
                            ref ulong bw = ref Unsafe.Add(ref bj, j * words);
                            for (int w = 0; w < words; w++) c += BitOperations.PopCount(Unsafe.Add(ref ai, w) & Unsafe.Add(ref bw, w));
                            Unsafe.Add(ref row, j) = (byte)c;
                        }
                    }
                }
            });
        }

        /// <summary>
        /// <see cref="Matches"/> for points of at most two words, eight pairs at a time: b's words laid out by word (all first
        /// words, then all second words), AND with a_i's, popcount of each byte by a nibble table (vpshufb), the bytes of a
        /// pair summed by vpsadbw and narrowed to bytes (vpmovqb).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Matches512(BinaryCloud a, BinaryCloud b, byte[] into)
        {
            int words = a.Words, m = b.Count;
            var planar = new ulong[2 * m];
            for (int j = 0; j < m; j++)
            {
                planar[j] = b.Bits[j * words];
                planar[m + j] = words == 2 ? b.Bits[j * words + 1] : 0;
            }
            Parallel.For(0, Blocks(a.Count), block =>
            {
                var (from, to) = BlockRange(block, a.Count);
                var nibbles = Vector512.Create((byte)0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                    0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                    0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
                var low = Vector512.Create((byte)0x0F);
                ref ulong w0 = ref planar[0];
                ref ulong w1 = ref planar[m];
                for (int i = from; i < to; i++)
                {
                    ref byte row = ref into[(long)i * m];
                    var a0 = Vector512.Create(a.Bits[i * words]);
                    var a1 = Vector512.Create(words == 2 ? a.Bits[i * words + 1] : 0UL);
                    int j = 0;
                    for (; j <= m - 8; j += 8)
                    {
                        var c0 = (a0 & Vector512.LoadUnsafe(ref w0, (nuint)j)).AsByte();
                        var c1 = (a1 & Vector512.LoadUnsafe(ref w1, (nuint)j)).AsByte();
                        var count = Avx512BW.Shuffle(nibbles, c0 & low) + Avx512BW.Shuffle(nibbles, Vector512.ShiftRightLogical(c0.AsUInt16(), 4).AsByte() & low)
                            + Avx512BW.Shuffle(nibbles, c1 & low) + Avx512BW.Shuffle(nibbles, Vector512.ShiftRightLogical(c1.AsUInt16(), 4).AsByte() & low);
                        var sums = Avx512BW.SumAbsoluteDifferences(count, Vector512<byte>.Zero).AsUInt64();
                        Unsafe.WriteUnaligned(ref Unsafe.Add(ref row, j), Avx512F.ConvertToVector128Byte(sums).AsUInt64().ToScalar());
                    }
                    for (; j < m; j++)
                        Unsafe.Add(ref row, j) = (byte)(BitOperations.PopCount(a0.ToScalar() & Unsafe.Add(ref w0, j)) + BitOperations.PopCount(a1.ToScalar() & Unsafe.Add(ref w1, j)));
                }
            });
        }
    }

    /// <summary>The vectors of the soft-min pass.</summary>
    internal enum VectorWidth
    {
        /// <summary>One float at a time (MathF.Exp): any CPU.</summary>
        Scalar,
        /// <summary>AVX2 and FMA, 8 floats.</summary>
        Bits256,
        /// <summary>AVX-512, 16 floats.</summary>
        Bits512,
        /// <summary>
        /// AVX-512 with the level table (<see cref="LevelTable"/>) where every point has fewer than <see cref="LevelTable.Size"/>
        /// ones (T ≤ 127 for one-hot sequences), <see cref="Bits512"/> otherwise and for any row the table cannot resolve.
        /// </summary>
        Bits512Levels,
    }

    /// <summary>The widest vectors this CPU runs.</summary>
    internal static VectorWidth Widest { get; } =
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? VectorWidth.Bits512Levels
        : Avx2.IsSupported && Fma.IsSupported && Avx.IsSupported ? VectorWidth.Bits256
        : VectorWidth.Scalar;

    /// <summary>Rows per parallel work item.</summary>
    private const int BlockRows = 16;

    private static int Blocks(int rows) => (rows + BlockRows - 1) / BlockRows;

    private static (int From, int To) BlockRange(int block, int rows) => (block * BlockRows, Math.Min(rows, (block + 1) * BlockRows));

    /// <summary>
    /// One soft-min for each point of cloud r over the points of cloud c: ½s_i − ε log Σ_j exp(h_j + φ_j/ε − C_ij/ε) with
    /// C_ij = ½s_i + ½s'_j − M_ij, h_j = <c>logWeight</c> and φ the potential on c (0 when null). M is [r, c] (a row a point of
    /// r) or, <c>ByColumn</c>, [c, r] (a column a point of r: g's soft-min runs down the columns of M_xy, no transpose kept).
    /// With <c>weights</c> (rows only), the row-normalised terms are written there [r, c]. With <c>RowMax</c> (each row's
    /// largest level), rows go through the <see cref="LevelTable"/> first.
    /// </summary>
    private readonly record struct SoftMinPass(double Eps, byte[] Levels, BinaryCloud R, BinaryCloud C, double LogWeight, double[]? Potential,
        float[]? Weights, VectorWidth Width, bool ByColumn = false, byte[]? RowMax = null, double Resolvable = LevelTable.Resolvable)
    {
        /// <summary>Terms below e^−60 of the row's largest are taken as e^−60, as in <see cref="SinkhornLoss"/>: no subnormal floats.</summary>
        private const float Floor = -60f;

        /// <summary>Columns per parallel work item of a column pass.</summary>
        private const int ColumnBlock = 64;

        public double[] Run()
        {
            int rows = R.Count, cols = C.Count;
            // h'_j = log w_j + φ_j/ε − ½s'_j/ε in double, less its maximum H (added back in double), then float32 like the general
            // loss's tensors: at large ε the differences are small and keep float's full relative precision.
            var hd = new double[cols];
            double top = double.NegativeInfinity;
            for (int j = 0; j < cols; j++)
                top = Math.Max(top, hd[j] = LogWeight + ((Potential is null ? 0 : Potential[j]) - 0.5 * C.Ones[j]) / Eps);
            var h = new float[cols];
            for (int j = 0; j < cols; j++) h[j] = (float)(hd[j] - top);
            var result = new double[rows];
            var inv = (float)(1 / Eps);
            double e = Eps;
            byte[] m = Levels;
            float[]? w = Weights;
            int[] rowOnes = R.Ones;
            var width = Width;
            if (ByColumn)
            {
                if (w is not null) throw new InvalidOperationException("a column pass writes no weights");
                Parallel.For(0, (rows + ColumnBlock - 1) / ColumnBlock, block =>
                {
                    int from = block * ColumnBlock, to = Math.Min(rows, from + ColumnBlock), j = from;
                    Span<float> max = stackalloc float[16];
                    Span<double> sum = stackalloc double[16];
                    while (j < to)
                    {
                        int lanes = Columns(m, rows, j, to, h, inv, width, max, sum);
                        for (int k = 0; k < lanes; k++) result[j + k] = 0.5 * rowOnes[j + k] - e * (top + max[k] + Math.Log(sum[k]));
                        j += lanes;
                    }
                });
                return result;
            }
            if (RowMax is byte[] rowMax)
            {
                // exp(h'_j) once a pass (in double, then float; below e^−87 it is 0: such a term is under e^−87 of the bound).
                var a = new float[cols];
                for (int j = 0; j < cols; j++) a[j] = hd[j] - top < -LevelTable.Cut ? 0f : (float)Math.Exp(hd[j] - top);
                double resolvable = Resolvable;
                int highestOfAll = rowMax.Max();
                var decay = LevelTable.Decay(e);
                Parallel.For(0, Blocks(rows), block =>
                {
                    var (from, to) = BlockRange(block, rows);
                    Span<float> levels = stackalloc float[LevelTable.Entries(highestOfAll)];
                    for (int i = from; i < to; i++)
                    {
                        var row = m.AsSpan(i * cols, cols);
                        var store = w is null ? default : w.AsSpan(i * cols, cols);
                        int highest = rowMax[i];
                        // z_ij = M_ij/ε + h'_j ≤ highest/ε (h' ≤ 0): the row's terms against that bound are a_j · e^((M_ij − highest)/ε).
                        LevelTable.Fill(levels, highest, decay);
                        var sum = LevelTable.Sum(row, a, levels);
                        if (sum >= resolvable)
                        {
                            if (!store.IsEmpty) LevelTable.Write(row, a, levels, (float)(1 / sum), store);
                            result[i] = 0.5 * rowOnes[i] - e * top - highest - e * Math.Log(sum);
                        }
                        else
                        {
                            var (max, exact) = Row(row, h, inv, store, width);
                            result[i] = 0.5 * rowOnes[i] - e * (top + max + Math.Log(exact));
                        }
                    }
                });
                return result;
            }
            Parallel.For(0, Blocks(rows), block =>
            {
                var (from, to) = BlockRange(block, rows);
                for (int i = from; i < to; i++)
                {
                    var row = m.AsSpan(i * cols, cols);
                    var (max, sum) = w is null ? Row(row, h, inv, default, width) : Row(row, h, inv, w.AsSpan(i * cols, cols), width);
                    result[i] = 0.5 * rowOnes[i] - e * (top + max + Math.Log(sum));
                }
            });
            return result;
        }

        /// <summary>
        /// The columns from <paramref name="j"/> of M [h.Length, <paramref name="stride"/>] as many at a time as one vector holds
        /// (one, at the end or without vectors): for each, max_i z_i and Σ_i exp(max(z_i − max, −60)), z_i = M_ij/ε + h'_i, into
        /// <paramref name="max"/> and <paramref name="sum"/>; returns the number of columns done.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static int Columns(byte[] levels, int stride, int j, int end, float[] h, float inv, VectorWidth width, Span<float> max, Span<double> sum)
        {
            int summed = h.Length;
            ref byte m = ref levels[0];
            if (width == VectorWidth.Bits512 && end - j >= 16)
            {
                var vinv = Vector512.Create(inv);
                var vmax = Vector512.Create(float.NegativeInfinity);
                for (int i = 0; i < summed; i++)
                    vmax = Vector512.Max(vmax, Vector512.FusedMultiplyAdd(Levels16(ref m, i * stride + j), vinv, Vector512.Create(h[i])));
                var floor = Vector512.Create(Floor);
                Vector512<double> lo = Vector512<double>.Zero, hi = Vector512<double>.Zero;
                for (int i = 0; i < summed; i++)
                {
                    var z = Vector512.FusedMultiplyAdd(Levels16(ref m, i * stride + j), vinv, Vector512.Create(h[i])) - vmax;
                    var t = FastExp.Of(Vector512.Max(z, floor));
                    lo += Avx512F.ConvertToVector512Double(t.GetLower());
                    hi += Avx512F.ConvertToVector512Double(t.GetUpper());
                }
                vmax.StoreUnsafe(ref MemoryMarshal.GetReference(max));
                lo.StoreUnsafe(ref MemoryMarshal.GetReference(sum));
                hi.StoreUnsafe(ref MemoryMarshal.GetReference(sum), 8);
                return 16;
            }
            if (width >= VectorWidth.Bits256 && end - j >= 8)
            {
                var vinv = Vector256.Create(inv);
                var vmax = Vector256.Create(float.NegativeInfinity);
                for (int i = 0; i < summed; i++)
                    vmax = Vector256.Max(vmax, Vector256.FusedMultiplyAdd(Levels8(ref m, i * stride + j), vinv, Vector256.Create(h[i])));
                var floor = Vector256.Create(Floor);
                Vector256<double> lo = Vector256<double>.Zero, hi = Vector256<double>.Zero;
                for (int i = 0; i < summed; i++)
                {
                    var z = Vector256.FusedMultiplyAdd(Levels8(ref m, i * stride + j), vinv, Vector256.Create(h[i])) - vmax;
                    var t = FastExp.Of(Vector256.Max(z, floor));
                    lo += Avx.ConvertToVector256Double(t.GetLower());
                    hi += Avx.ConvertToVector256Double(t.GetUpper());
                }
                vmax.StoreUnsafe(ref MemoryMarshal.GetReference(max));
                lo.StoreUnsafe(ref MemoryMarshal.GetReference(sum));
                hi.StoreUnsafe(ref MemoryMarshal.GetReference(sum), 4);
                return 8;
            }
            float mx = float.NegativeInfinity;
            for (int i = 0; i < summed; i++) mx = MathF.Max(mx, MathF.FusedMultiplyAdd(Unsafe.Add(ref m, i * stride + j), inv, h[i]));
            double s = 0;
            for (int i = 0; i < summed; i++)
                s += MathF.Exp(MathF.Max(MathF.FusedMultiplyAdd(Unsafe.Add(ref m, i * stride + j), inv, h[i]) - mx, Floor));
            (max[0], sum[0]) = (mx, s);
            return 1;
        }

        /// <summary>
        /// The row's max_j z_j and Σ_j exp(max(z_j − max, −60)), z_j = M_j/ε + h'_j in float32; with <paramref name="store"/>,
        /// the terms divided by their sum are written there.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static (float Max, double Sum) Row(ReadOnlySpan<byte> row, ReadOnlySpan<float> h, float inv, Span<float> store, VectorWidth width)
        {
            int cols = row.Length, j = 0;
            ref byte mr = ref MemoryMarshal.GetReference(row);
            ref float hr = ref MemoryMarshal.GetReference(h);
            float max = float.NegativeInfinity;
            if (width == VectorWidth.Bits512 && cols >= 16)
            {
                var vinv = Vector512.Create(inv);
                var vmax = Vector512.Create(float.NegativeInfinity);
                for (; j <= cols - 16; j += 16)
                    vmax = Vector512.Max(vmax, Vector512.FusedMultiplyAdd(Levels16(ref mr, j), vinv, Vector512.LoadUnsafe(ref hr, (nuint)j)));
                max = HorizontalMax(vmax.GetLower(), vmax.GetUpper());
            }
            else if (width >= VectorWidth.Bits256 && cols >= 8)
            {
                var vinv = Vector256.Create(inv);
                var vmax = Vector256.Create(float.NegativeInfinity);
                for (; j <= cols - 8; j += 8)
                    vmax = Vector256.Max(vmax, Vector256.FusedMultiplyAdd(Levels8(ref mr, j), vinv, Vector256.LoadUnsafe(ref hr, (nuint)j)));
                max = HorizontalMax(vmax, vmax);
            }
            for (; j < cols; j++) max = MathF.Max(max, MathF.FusedMultiplyAdd(Unsafe.Add(ref mr, j), inv, Unsafe.Add(ref hr, j)));

            bool storing = !store.IsEmpty;
            ref float sr = ref MemoryMarshal.GetReference(store);
            double sum = 0;
            j = 0;
            if (width == VectorWidth.Bits512 && cols >= 16)
            {
                var vinv = Vector512.Create(inv);
                var vmax = Vector512.Create(max);
                var floor = Vector512.Create(Floor);
                // The terms in float32, their sums in double (two accumulators of 8).
                Vector512<double> lo = Vector512<double>.Zero, hi = Vector512<double>.Zero;
                for (; j <= cols - 16; j += 16)
                {
                    var z = Vector512.FusedMultiplyAdd(Levels16(ref mr, j), vinv, Vector512.LoadUnsafe(ref hr, (nuint)j)) - vmax;
                    var t = FastExp.Of(Vector512.Max(z, floor));
                    lo += Avx512F.ConvertToVector512Double(t.GetLower());
                    hi += Avx512F.ConvertToVector512Double(t.GetUpper());
                    if (storing) t.StoreUnsafe(ref sr, (nuint)j);
                }
                sum = Vector512.Sum(lo + hi);
            }
            else if (width >= VectorWidth.Bits256 && cols >= 8)
            {
                var vinv = Vector256.Create(inv);
                var vmax = Vector256.Create(max);
                var floor = Vector256.Create(Floor);
                Vector256<double> lo = Vector256<double>.Zero, hi = Vector256<double>.Zero;
                for (; j <= cols - 8; j += 8)
                {
                    var z = Vector256.FusedMultiplyAdd(Levels8(ref mr, j), vinv, Vector256.LoadUnsafe(ref hr, (nuint)j)) - vmax;
                    var t = FastExp.Of(Vector256.Max(z, floor));
                    lo += Avx.ConvertToVector256Double(t.GetLower());
                    hi += Avx.ConvertToVector256Double(t.GetUpper());
                    if (storing) t.StoreUnsafe(ref sr, (nuint)j);
                }
                sum = Vector256.Sum(lo + hi);
            }
            for (; j < cols; j++)
            {
                var t = MathF.Exp(MathF.Max(MathF.FusedMultiplyAdd(Unsafe.Add(ref mr, j), inv, Unsafe.Add(ref hr, j)) - max, Floor));
                sum += t;
                if (storing) Unsafe.Add(ref sr, j) = t;
            }
            if (storing)
            {
                var scale = (float)(1 / sum);
                for (j = 0; j < cols; j++) Unsafe.Add(ref sr, j) *= scale;
            }
            return (max, sum);
        }

        /// <summary>16 bytes from <paramref name="m"/>[j] as floats.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Levels16(ref byte m, int j) =>
            Vector512.ConvertToSingle(Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref m, (nuint)j)));

        /// <summary>8 bytes from <paramref name="m"/>[j] as floats.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Levels8(ref byte m, int j) =>
            Vector256.ConvertToSingle(Avx2.ConvertToVector256Int32(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref m, j))).AsByte()));

        private static float HorizontalMax(Vector256<float> a, Vector256<float> b)
        {
            var v = Vector256.Max(a, b);
            float max = float.NegativeInfinity;
            for (int k = 0; k < Vector256<float>.Count; k++) max = MathF.Max(max, v[k]);
            return max;
        }
    }
}

/// <summary>
/// The soft-min's row sums when a row's levels are few (issue 23): for one-hot sequences of length T the match count M_ij
/// takes at most T + 1 values, so with a_j = exp(h'_j) computed once a pass and a row's factors e^((l − L_i)/ε), L_i the
/// row's largest level, Σ_j exp(M_ij/ε + h'_j) = e^(L_i/ε) Σ_j a_j · table_i[M_ij]: the n² work is a byte load, a lookup and
/// a fused multiply-add, no exponential. A lookup is one permute of a register pair (vpermi2ps, 32 entries) for T ≤ 31, two
/// and a blend for T ≤ 63, four and three blends for T ≤ 127.
/// </summary>
/// <remarks>
/// Sound in float32 because the bound L_i/ε + max h' = L_i/ε is at or above every exponent: no term exceeds 1, so nothing
/// overflows, and a term lost to underflow is below e^−87 of the bound. The sum is then accurate unless the row's largest
/// term is itself far below the bound (its nearest point carries a low h'): a sum under <see cref="Resolvable"/> (e^−60)
/// sends the row to the exponential pass instead, so the terms flushed to 0 (each under e^−87) add at most n · e^−27 of the row's sum. Sums are taken
/// in float within blocks of 1,024 columns (at most 16 terms a lane, each ≤ 1) and in double across blocks.
/// </remarks>
internal static class LevelTable
{
    /// <summary>Most entries of a table: levels 0 … 127 (eight AVX-512 registers; points of at most 127 ones).</summary>
    public const int Size = 128;

    /// <summary>Exponents below −<see cref="Cut"/> give 0 (no subnormal floats).</summary>
    public const double Cut = 87;

    /// <summary>A row whose sum against the bound is below this (e^−60) is recomputed by the exponential pass.</summary>
    public const double Resolvable = 8.75651076269652e-27;

    /// <summary>The largest level of each row of M [rows, cols].</summary>
    public static byte[] RowMaxima(byte[] levels, int rows, int cols)
    {
        var result = new byte[rows];
        Parallel.For(0, (rows + 63) / 64, block =>
        {
            for (int i = block * 64, end = Math.Min(rows, i + 64); i < end; i++)
            {
                ref byte r = ref levels[(long)i * cols];
                int j = 0;
                var vmax = Vector512<byte>.Zero;
                for (; j <= cols - 64; j += 64) vmax = Vector512.Max(vmax, Vector512.LoadUnsafe(ref r, (nuint)j));
                byte max = 0;
                for (int k = 0; k < 64; k++) max = Math.Max(max, vmax[k]);
                for (; j < cols; j++) max = Math.Max(max, Unsafe.Add(ref r, j));
                result[i] = max;
            }
        });
        return result;
    }

    /// <summary>
    /// decay[d] = e^(−d/ε) for d = 0 … <see cref="Size"/> − 1 (0 past −<see cref="Cut"/>): every row's table is read from it, so a
    /// pass computes <see cref="Size"/> exponentials instead of that many a row.
    /// </summary>
    public static float[] Decay(double eps)
    {
        var decay = new float[Size];
        for (int d = 0; d < Size; d++)
        {
            var u = -d / eps;
            decay[d] = u < -Cut ? 0f : (float)Math.Exp(u);
        }
        return decay;
    }

    /// <summary>table[l] = e^((l − highest)/ε) = decay[highest − l] for l ≤ highest, 0 above it (no such level in the row).</summary>
    public static void Fill(Span<float> table, int highest, ReadOnlySpan<float> decay)
    {
        for (int l = 0; l < table.Length; l++) table[l] = l > highest ? 0f : decay[highest - l];
    }

    /// <summary>The entries of a table for levels 0 … <paramref name="highest"/>: 32, 64 or 128 (one, two or four register pairs).</summary>
    public static int Entries(int highest)
    {
        if (highest is < 0 or >= Size) throw new ArgumentOutOfRangeException(nameof(highest), highest, $"levels 0 … {Size - 1}");
        return highest < 32 ? 32 : highest < 64 ? 64 : Size;
    }

    /// <summary>Σ_j a_j · table[row_j]; the table has <see cref="Entries"/> entries.</summary>
    public static double Sum(ReadOnlySpan<byte> row, ReadOnlySpan<float> a, ReadOnlySpan<float> table)
    {
        var r = Registers.Of(table, 1);
        return table.Length switch
        {
            32 => Sum<Lookup32>(row, a, table, r),
            64 => Sum<Lookup64>(row, a, table, r),
            _ => Sum<Lookup128>(row, a, table, r),
        };
    }

    /// <summary>store_j = a_j · table[row_j] · <paramref name="scale"/>.</summary>
    public static void Write(ReadOnlySpan<byte> row, ReadOnlySpan<float> a, ReadOnlySpan<float> table, float scale, Span<float> store)
    {
        var r = Registers.Of(table, scale);
        switch (table.Length)
        {
            case 32: Write<Lookup32>(row, a, table, scale, r, store); break;
            case 64: Write<Lookup64>(row, a, table, scale, r, store); break;
            default: Write<Lookup128>(row, a, table, scale, r, store); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double Sum<TLookup>(ReadOnlySpan<byte> row, ReadOnlySpan<float> a, ReadOnlySpan<float> table, Registers r) where TLookup : ILookup
    {
        Debug.Assert(table.Length is 32 or 64 or Size);
        int cols = row.Length, j = 0;
        ref byte mr = ref MemoryMarshal.GetReference(row);
        ref float ar = ref MemoryMarshal.GetReference(a);
        var total = Vector512<double>.Zero;
        while (j <= cols - 64)
        {
            int end = Math.Min(cols - 64, j + 1024 - 64);
            Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; j <= end; j += 64)
            {
                s0 = Vector512.FusedMultiplyAdd(TLookup.Of(Index(ref mr, j), r), Vector512.LoadUnsafe(ref ar, (nuint)j), s0);
                s1 = Vector512.FusedMultiplyAdd(TLookup.Of(Index(ref mr, j + 16), r), Vector512.LoadUnsafe(ref ar, (nuint)(j + 16)), s1);
                s2 = Vector512.FusedMultiplyAdd(TLookup.Of(Index(ref mr, j + 32), r), Vector512.LoadUnsafe(ref ar, (nuint)(j + 32)), s2);
                s3 = Vector512.FusedMultiplyAdd(TLookup.Of(Index(ref mr, j + 48), r), Vector512.LoadUnsafe(ref ar, (nuint)(j + 48)), s3);
            }
            var s = (s0 + s1) + (s2 + s3);
            total += Avx512F.ConvertToVector512Double(s.GetLower()) + Avx512F.ConvertToVector512Double(s.GetUpper());
        }
        double sum = Vector512.Sum(total);
        for (; j < cols; j++) sum += table[Unsafe.Add(ref mr, j)] * Unsafe.Add(ref ar, j);
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Write<TLookup>(ReadOnlySpan<byte> row, ReadOnlySpan<float> a, ReadOnlySpan<float> table, float scale, Registers r, Span<float> store)
        where TLookup : ILookup
    {
        Debug.Assert(table.Length is 32 or 64 or Size);
        int cols = row.Length, j = 0;
        ref byte mr = ref MemoryMarshal.GetReference(row);
        ref float ar = ref MemoryMarshal.GetReference(a);
        ref float sr = ref MemoryMarshal.GetReference(store);
        for (; j <= cols - 16; j += 16)
            (TLookup.Of(Index(ref mr, j), r) * Vector512.LoadUnsafe(ref ar, (nuint)j)).StoreUnsafe(ref sr, (nuint)j);
        for (; j < cols; j++) Unsafe.Add(ref sr, j) = table[Unsafe.Add(ref mr, j)] * scale * Unsafe.Add(ref ar, j);
    }

    /// <summary>16 level bytes from <paramref name="m"/>[j] widened to indices.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Index(ref byte m, int j) => Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref m, (nuint)j)).AsInt32();

    /// <summary>A table of up to 128 floats in eight registers (those past the table's entries zero).</summary>
    private readonly struct Registers
    {
        public readonly Vector512<float> R0, R1, R2, R3, R4, R5, R6, R7;

        private Registers(ReadOnlySpan<Vector512<float>> r) => (R0, R1, R2, R3, R4, R5, R6, R7) = (r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);

        public static Registers Of(ReadOnlySpan<float> table, float scale)
        {
            Span<Vector512<float>> r = stackalloc Vector512<float>[8];
            r.Clear();
            for (int k = 0; 16 * (k + 1) <= table.Length && k < 8; k++) r[k] = Vector512.Create(table.Slice(16 * k, 16)) * scale;
            return new Registers(r);
        }
    }

    /// <summary>table[index] for 16 indices: one permute of a register pair covers 32 entries, index bits 5 and 6 choose the pair.</summary>
    private interface ILookup
    {
        static abstract Vector512<float> Of(Vector512<int> index, in Registers r);
    }

    private readonly struct Lookup32 : ILookup
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Of(Vector512<int> index, in Registers r) => Avx512F.PermuteVar16x32x2(r.R0, index, r.R1);
    }

    private readonly struct Lookup64 : ILookup
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Of(Vector512<int> index, in Registers r) => Vector512.ConditionalSelect(
            Vector512.Equals(index & Vector512.Create(32), Vector512<int>.Zero).AsSingle(),
            Avx512F.PermuteVar16x32x2(r.R0, index, r.R1), Avx512F.PermuteVar16x32x2(r.R2, index, r.R3));
    }

    private readonly struct Lookup128 : ILookup
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Of(Vector512<int> index, in Registers r)
        {
            var below32 = Vector512.Equals(index & Vector512.Create(32), Vector512<int>.Zero).AsSingle();
            var low = Vector512.ConditionalSelect(below32, Avx512F.PermuteVar16x32x2(r.R0, index, r.R1), Avx512F.PermuteVar16x32x2(r.R2, index, r.R3));
            var high = Vector512.ConditionalSelect(below32, Avx512F.PermuteVar16x32x2(r.R4, index, r.R5), Avx512F.PermuteVar16x32x2(r.R6, index, r.R7));
            return Vector512.ConditionalSelect(Vector512.Equals(index & Vector512.Create(64), Vector512<int>.Zero).AsSingle(), low, high);
        }
    }
}

/// <summary>
/// exp on float32 vectors for arguments in [−87, 0] (the soft-min's shifted, floored exponents): Cody–Waite reduction
/// x = k ln 2 + r, Cephes' degree-6 polynomial for e^r, 2^k built in the exponent bits. Relative error ≤ 2e−7 (a test
/// checks it against Math.Exp); about twice as fast here as <c>Vector512.Exp</c>, which goes through double.
/// </summary>
internal static class FastExp
{
    private const float Log2E = 1.44269504088896341f, Ln2Hi = 0.693359375f, Ln2Lo = -2.12194440e-4f;
    private const float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f, P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    /// <summary>e^x, x ∈ [−87, 0].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Of(Vector512<float> x)
    {
        var k = Vector512.Round(x * Vector512.Create(Log2E));
        var r = Vector512.FusedMultiplyAdd(k, Vector512.Create(-Ln2Hi), x);
        r = Vector512.FusedMultiplyAdd(k, Vector512.Create(-Ln2Lo), r);
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(P0), r, Vector512.Create(P1));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P5));
        p = Vector512.FusedMultiplyAdd(p, r * r, r + Vector512<float>.One);
        var scale = ((Vector512.ConvertToInt32(k) + Vector512.Create(127)) << 23).AsSingle();
        return p * scale;
    }

    /// <summary>e^x, x ∈ [−87, 0].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Of(Vector256<float> x)
    {
        var k = Vector256.Round(x * Vector256.Create(Log2E));
        var r = Vector256.FusedMultiplyAdd(k, Vector256.Create(-Ln2Hi), x);
        r = Vector256.FusedMultiplyAdd(k, Vector256.Create(-Ln2Lo), r);
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(P0), r, Vector256.Create(P1));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P2));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P4));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P5));
        p = Vector256.FusedMultiplyAdd(p, r * r, r + Vector256<float>.One);
        var scale = ((Vector256.ConvertToInt32(k) + Vector256.Create(127)) << 23).AsSingle();
        return p * scale;
    }
}
