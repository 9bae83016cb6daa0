using System.Runtime.Intrinsics;
using HmmRnn.Analysis.Numerics;
using HmmRnn.Core;
using HmmRnn.Host.Tasks.Hmm;
using TorchSharp;
using static TorchSharp.torch;

namespace HmmRnn.Host.Tests;

/// <summary>
/// The one-hot Sinkhorn kernel (issue 23) against the double-precision oracle <see cref="Sinkhorn"/> in Analysis (values),
/// central differences of that oracle (gradients), and the general tensor loss (values and gradients, also through the
/// straight-through Gumbel-softmax). No golden value comes from the code under test.
/// </summary>
[Collection("torch")]
public class OneHotSinkhornTests
{
    private const int Symbols = 3;

    /// <summary>Symbols of <paramref name="count"/> sequences of length <paramref name="length"/>, uniform, or drawn from <paramref name="distinct"/> distinct sequences.</summary>
    private static int[][] Sequences(int count, int length, long seed, int? distinct = null)
    {
        var rng = Rng.FromSeed(seed);
        int[] Draw()
        {
            var s = new int[length];
            for (int t = 0; t < length; t++) (s[t], rng) = rng.NextInt(Symbols);
            return s;
        }
        if (distinct is not int k) return Enumerable.Range(0, count).Select(_ => Draw()).ToArray();
        var pool = Enumerable.Range(0, k).Select(_ => Draw()).ToArray();
        var result = new int[count][];
        for (int i = 0; i < count; i++) { int pick; (pick, rng) = rng.NextInt(k); result[i] = pool[pick]; }
        return result;
    }

    /// <summary>One-hot rows flattened, [count · length · 3] row-major: point i is sequence i, D = 3T.</summary>
    private static double[] OneHot(int[][] sequences)
    {
        int length = sequences[0].Length;
        var v = new double[sequences.Length * length * Symbols];
        for (int i = 0; i < sequences.Length; i++)
            for (int t = 0; t < length; t++) v[(i * length + t) * Symbols + sequences[i][t]] = 1;
        return v;
    }

    private static Tensor Cloud(double[] values, int dim, ScalarType dtype = ScalarType.Float32) =>
        tensor(values, [values.Length / dim, dim]).to(dtype);

    private static double Fast(double[] x, double[] y, int dim, SinkhornOptions options) =>
        OneHotSinkhorn.Divergence(Cloud(x, dim), Cloud(y, dim), options).ToDouble();

    [Theory]
    [InlineData(30, 97, 83, 1L)]
    [InlineData(40, 67, 90, 6L)]
    [InlineData(100, 61, 70, 2L)]
    public void Value_equals_the_double_oracle_at_every_epsilon_of_the_schedule(int T, int n, int m, long seed)
    {
        // Random one-hot clouds (odd sizes: the vector loops' scalar tails and the transpose's partial tiles run), the loss
        // stopped at each ε of the paper's schedule in turn (blur = √ε), the last being the paper's 0.04. The oracle recomputes
        // ½‖x − y‖² in double from the points. Red (mutations tried, issue 23) when M_yx is M_xy untransposed (g's soft-min over
        // the wrong points), when the −60 floor is dropped from the 512-bit loop, when a coefficient of the exponential's
        // polynomial is off by 2e-3, when the ε-loop skips one averaging, and when the max of h' is not added back.
        int dim = Symbols * T;
        var x = OneHot(Sequences(n, T, seed));
        var y = OneHot(Sequences(m, T, seed + 100));
        var schedule = SinkhornOptions.Paper.Epsilons(Math.Sqrt(dim));
        Assert.Equal(0.04, schedule[^1], 12);
        Assert.True(schedule.Count >= 8, $"the paper's schedule at D = {dim} has {schedule.Count} steps");
        foreach (var eps in schedule)
        {
            // Blur a hair above √ε: the schedule's grid point ε itself is then not "> blur²" on any rounding, and both sides run
            // the same steps (at exactly √ε the float32 diameter of the general loss can tip a grid point in or out).
            var options = SinkhornOptions.Paper with { Blur = Math.Sqrt(eps) * (1 + 1e-9) };
            var oracle = Sinkhorn.Compute(x, y, dim, options).Divergence;
            var fast = Fast(x, y, dim, options);
            Assert.True(oracle > 0, $"ε = {eps}: the oracle's divergence {oracle}");
            Assert.True(Math.Abs(fast - oracle) <= 1e-5 * Math.Abs(oracle), $"ε = {eps}: one-hot kernel {fast:R}, oracle {oracle:R}, relative {Math.Abs(fast - oracle) / oracle:E2}");
        }
    }

    [Theory]
    [InlineData(30, 1, 1, 3L)]
    [InlineData(30, 3, 5, 4L)]
    [InlineData(100, 4, 2, 5L)]
    public void Value_equals_the_double_oracle_on_clouds_of_many_identical_sequences(int T, int distinctX, int distinctY, long seed)
    {
        // 150 and 131 points drawn from a handful of distinct sequences (one: every point the same): ties in every row of the
        // match matrix, whole columns equal, potentials that differ only between the groups. At the paper's blur and at blur 1.
        // Red when the floor of −60 is dropped (the polynomial of an exponent of −750 is garbage, not 0), when M_yx is left
        // untransposed, and when the final extrapolation takes fa from the cross potential.
        int dim = Symbols * T;
        var x = OneHot(Sequences(150, T, seed, distinctX));
        var y = OneHot(Sequences(131, T, seed + 100, distinctY));
        foreach (var options in new[] { SinkhornOptions.Paper, new SinkhornOptions(Blur: 1) })
        {
            var oracle = Sinkhorn.Compute(x, y, dim, options).Divergence;
            var fast = Fast(x, y, dim, options);
            Assert.True(Math.Abs(fast - oracle) <= 1e-5 * Math.Abs(oracle) + 1e-6, $"blur {options.Blur}: one-hot kernel {fast:R}, oracle {oracle:R}");
        }
        // The same cloud on both sides: S = 0 (the oracle too).
        Assert.Equal(0.0, Fast(x, x, dim, SinkhornOptions.Paper), 1e-5);
    }

    [Fact]
    public void Value_and_gradient_on_binary_points_with_varying_numbers_of_ones()
    {
        // The kernel takes any 0/1 points, not only one-hot rows: each entry 1 with probability 0.3 (D = 70, so a point's ones
        // vary around 21 and the cost's ½s_i + ½s'_j differ from pair to pair). Against the oracle at the paper's blur (value)
        // and the general loss (gradient). Red when the column's ½s'_j is dropped from h' or the row's ½s_i is not added
        // back: with one-hot rows every s is T and either slip is a constant shift of all potentials, which cancels in S.
        const int n = 90, m = 77, dim = 70;
        var rng = Rng.FromSeed(51);
        double[] Draw(int count)
        {
            var v = new double[count * dim];
            for (int k = 0; k < v.Length; k++) { double u; (u, rng) = rng.NextDouble(); v[k] = u < 0.3 ? 1 : 0; }
            return v;
        }
        var x = Draw(n);
        var y = Draw(m);
        var oracle = Sinkhorn.Compute(x, y, dim, SinkhornOptions.Paper).Divergence;
        Assert.True(Math.Abs(Fast(x, y, dim, SinkhornOptions.Paper) - oracle) <= 1e-5 * oracle, $"oracle {oracle:R}");
        var (_, general) = ValueAndGradient(Cloud(x, dim), Cloud(y, dim), SinkhornKernel.General);
        var (_, fast) = ValueAndGradient(Cloud(x, dim), Cloud(y, dim), SinkhornKernel.OneHot);
        Assert.True(RelativeL2(fast, general) < 1e-5, $"gradient relative difference {RelativeL2(fast, general):E2}");
    }

    [Fact]
    public void Gradient_equals_central_differences_of_the_double_oracle()
    {
        // The gradient the kernel writes out, a_i ((Q x̄)_i − (P y)_i), against central differences of the oracle's divergence in
        // double at the one-hot points (the oracle takes any points; the kernel only binary ones), with a slow ε-schedule (blur 1,
        // scaling 0.999) so that the potentials have converged and the envelope theorem makes the two the same: relative error
        // 3e-4, which is the schedule's (the general loss in float64 gives the same to 1e-7; at scaling 0.99 both are 2.6e-3).
        // Red when the self-term's Q x̄ is dropped, when P and Q are left unnormalised, when the final fa starts from the cross
        // potential, when the gradient is not divided by n, and when it is detached from x.
        var options = new SinkhornOptions(Blur: 1, Scaling: 0.999);
        const int n = 6, m = 8, T = 4, dim = Symbols * T;
        var x = OneHot(Sequences(n, T, 21));
        var y = OneHot(Sequences(m, T, 22));
        using var xt = Cloud(x, dim).requires_grad_();
        using var loss = OneHotSinkhorn.Divergence(xt, Cloud(y, dim), options);
        loss.backward();
        var analytic = xt.grad!.data<float>().ToArray();
        const double h = 1e-5;
        var numeric = new double[x.Length];
        for (int k = 0; k < x.Length; k++)
        {
            var plus = (double[])x.Clone();
            var minus = (double[])x.Clone();
            plus[k] += h;
            minus[k] -= h;
            numeric[k] = (Sinkhorn.Compute(plus, y, dim, options).Divergence - Sinkhorn.Compute(minus, y, dim, options).Divergence) / (2 * h);
        }
        var scale = Math.Sqrt(numeric.Sum(v => v * v));
        Assert.True(scale > 0.1, $"the gradient is not trivially small ({scale})");
        var error = Math.Sqrt(analytic.Zip(numeric, (a, b) => (a - b) * (a - b)).Sum());
        Assert.True(error < 1e-3 * scale, $"|analytic − numeric| = {error:E2} against |numeric| = {scale:E2}");
        Assert.Equal(Sinkhorn.Compute(x, y, dim, options).Divergence, loss.ToDouble(), 5);
    }

    [Theory]
    [InlineData(30, 300, 257)]
    [InlineData(100, 129, 140)]
    public void Value_and_gradient_equal_the_general_loss_at_the_papers_setting(int T, int n, int m)
    {
        // Today's tensor loss (SinkhornKernel.General) and the kernel on the same one-hot clouds, float32 both: the value to
        // 1e-6 relative, the gradient to 1e-5 (relative L2). Red when the final extrapolation's fa starts from the cross
        // potential (fBa for fAa), when the ε-loop skips the averaging of fAa, when Q x̄ is dropped or P, Q unnormalised.
        int dim = Symbols * T;
        var xs = Cloud(OneHot(Sequences(n, T, 31)), dim);
        var y = Cloud(OneHot(Sequences(m, T, 32)), dim);
        var (general, generalGradient) = ValueAndGradient(xs, y, SinkhornKernel.General);
        var (fast, fastGradient) = ValueAndGradient(xs, y, SinkhornKernel.OneHot);
        Assert.True(Math.Abs(fast - general) <= 1e-6 * Math.Abs(general), $"one-hot {fast:R}, general {general:R}");
        Assert.True(RelativeL2(fastGradient, generalGradient) < 1e-5, $"gradient relative difference {RelativeL2(fastGradient, generalGradient):E2}");
        // The general loss in float64 as the reference for both float32 gradients: the kernel's is as close as today's
        // (n = 4096 in docs/benchmarks.md: 1.8e-6 and 4.8e-6 for the kernel at T = 30 and 100, 3.1e-6 and 7.6e-6 for today's).
        var (_, exact) = ValueAndGradient(xs.to(ScalarType.Float64), y.to(ScalarType.Float64), SinkhornKernel.General);
        Assert.True(RelativeL2(fastGradient, exact) < 1e-5, $"against float64: {RelativeL2(fastGradient, exact):E2}");
    }

    [Fact]
    public void Straight_through_samples_take_the_one_hot_kernel_and_give_the_general_losss_gradient_on_the_logits()
    {
        // The training loss's path: logits → hard Gumbel-softmax (forward exactly one-hot: (1 − s) + s rounds to 1, (0 − s) + s
        // is 0) → the loss. Auto must pick the kernel for these samples (red if the forward values were not exactly 0/1, or
        // the detection rejected a non-contiguous view), and the gradient that reaches the logits through the soft samples must
        // be the general loss's (red when the kernel's gradient is not attached to x, e.g. returned as a constant).
        const int n = 256, T = 30;
        manual_seed(7);
        var logits0 = randn(n, T, Symbols);
        var y = Cloud(OneHot(Sequences(n, T, 41)), Symbols * T);
        double[] LogitGradient(SinkhornKernel kernel, out double value)
        {
            using var scope = NewDisposeScope();
            var logits = logits0.clone().requires_grad_();
            using var generator = new Generator(11);
            var samples = GumbelSoftmax.Hard(logits, 1.0, generator);
            var outputs = samples.narrow(1, 0, T).reshape(n, -1);
            if (kernel == SinkhornKernel.Auto)
                Assert.NotNull(OneHotSinkhorn.TryDivergence(outputs, y, SinkhornOptions.Paper));
            var loss = SinkhornLoss.Divergence(outputs, y, SinkhornOptions.Paper, kernel);
            loss.backward();
            value = loss.ToDouble();
            return logits.grad!.to(ScalarType.Float64).data<double>().ToArray();
        }
        var general = LogitGradient(SinkhornKernel.General, out var generalValue);
        var auto = LogitGradient(SinkhornKernel.Auto, out var autoValue);
        Assert.True(Math.Abs(autoValue - generalValue) <= 1e-6 * generalValue, $"auto {autoValue:R}, general {generalValue:R}");
        Assert.True(general.Any(v => v != 0));
        Assert.True(RelativeL2(auto.Select(v => (float)v).ToArray(), general.Select(v => (float)v).ToArray()) < 1e-5);
    }

    [Fact]
    public void Every_vector_width_gives_the_general_losss_value_and_gradient()
    {
        // The soft-min pass has a 512-bit, a 256-bit and a scalar loop, and a CPU runs only the widest it has: each width this
        // machine can run, pinned, against the general loss (this machine: AVX-512, so all three). Odd sizes (173 × 166,
        // T = 30) so that every loop's tail runs. Red when one loop alone is wrong, e.g. the 256-bit loop's lanes summed
        // from the lower half twice, or the scalar loop's terms halved. (Dropping the scalar loop's −60 floor is invisible
        // here and harmless: MathF.Exp underflows cleanly; the floor is there against subnormal-float slowness.)
        const int n = 173, m = 166, T = 30, dim = Symbols * T;
        var xs = Cloud(OneHot(Sequences(n, T, 61)), dim);
        var y = Cloud(OneHot(Sequences(m, T, 62)), dim);
        var (general, generalGradient) = ValueAndGradient(xs, y, SinkhornKernel.General);
        foreach (var width in Enum.GetValues<OneHotSinkhorn.VectorWidth>().Where(w => w <= OneHotSinkhorn.Widest))
        {
            using var scope = NewDisposeScope();
            var xg = xs.detach().clone().requires_grad_();
            var loss = OneHotSinkhorn.TryDivergence(xg, y, SinkhornOptions.Paper, width)!;
            loss.backward();
            var fast = loss.ToDouble();
            var gradient = xg.grad!.data<float>().ToArray();
            Assert.True(Math.Abs(fast - general) <= 1e-6 * general, $"{width}: {fast:R} against {general:R}");
            Assert.True(RelativeL2(gradient, generalGradient) < 1e-5, $"{width}: gradient relative difference {RelativeL2(gradient, generalGradient):E2}");
        }
    }

    [Fact]
    public void Without_a_gradient_to_take_the_value_is_the_same()
    {
        // Validation calls the loss under no_grad on a cloud that needs no gradient: the kernel then skips the weights and
        // the two products. The value must be the one the differentiable call gives, bit for bit (the same passes), at the
        // paper's blur and at blur 2 (a short schedule, where the final extrapolation still moves the potentials). Red if the
        // shortcut took the self-term's fa from the loop's last step instead of the final pass (at the paper's blur alone
        // that slip hides in float32).
        const int T = 30, dim = Symbols * T;
        var x = Cloud(OneHot(Sequences(140, T, 71)), dim);
        var y = Cloud(OneHot(Sequences(150, T, 72)), dim);
        foreach (var options in new[] { SinkhornOptions.Paper, new SinkhornOptions(Blur: 2) })
        {
            var (withGradient, _) = ValueAndGradient(x, y, SinkhornKernel.OneHot, options);
            double plain, underNoGrad;
            using (var scope = NewDisposeScope())
                plain = OneHotSinkhorn.Divergence(x, y, options).ToDouble();
            using (var scope = NewDisposeScope())
            using (no_grad())
                underNoGrad = OneHotSinkhorn.Divergence(x.detach().clone().requires_grad_(), y, options).ToDouble();
            Assert.Equal(withGradient, plain);
            Assert.Equal(withGradient, underNoGrad);
        }
    }

    [Fact]
    public void Points_that_are_not_binary_take_the_general_loss()
    {
        // Auto falls back to the general loss for any entry other than 0 or 1, for float64 and for a point with more than 255
        // ones (M_ij would not fit a byte); asking for the kernel on them is an error. Red if the detection accepted 0.5 (the
        // packing would read it as 0) or the fallback changed the value.
        var rng = Rng.FromSeed(8);
        var x = new double[7 * 4];
        var y = new double[9 * 4];
        rng = rng.FillNormal(x);
        rng.FillNormal(y);
        using var xt = tensor(x, [7, 4]).to(ScalarType.Float32);
        using var yt = tensor(y, [9, 4]).to(ScalarType.Float32);
        Assert.Null(OneHotSinkhorn.TryDivergence(xt, yt, SinkhornOptions.Paper));
        Assert.Equal(SinkhornLoss.Divergence(xt, yt, SinkhornOptions.Paper, SinkhornKernel.General).ToDouble(),
            SinkhornLoss.Divergence(xt, yt, SinkhornOptions.Paper).ToDouble());
        Assert.Throws<ArgumentException>(() => SinkhornLoss.Divergence(xt, yt, SinkhornOptions.Paper, SinkhornKernel.OneHot));

        var oneHot = OneHot(Sequences(5, 4, 9));
        var half = (double[])oneHot.Clone();
        half[3] = 0.5;
        Assert.Null(OneHotSinkhorn.TryDivergence(Cloud(half, 12), Cloud(oneHot, 12), SinkhornOptions.Paper));
        Assert.Null(OneHotSinkhorn.TryDivergence(Cloud(oneHot, 12, ScalarType.Float64), Cloud(oneHot, 12, ScalarType.Float64), SinkhornOptions.Paper));
        Assert.NotNull(OneHotSinkhorn.TryDivergence(Cloud(oneHot, 12), Cloud(oneHot, 12), SinkhornOptions.Paper));
        using var dense = ones(3, 300);
        Assert.Null(OneHotSinkhorn.TryDivergence(dense, dense, SinkhornOptions.Paper));
    }

    [Avx512Fact]
    public void Level_table_sends_the_rows_it_cannot_resolve_to_the_exponential_pass()
    {
        // The level table (here T = 30: 32 entries) sums each row against the bound L_i/ε + max h', and a row whose sum falls below e^−60 of that
        // bound is recomputed by the exponential pass. On random T = 30 clouds at the paper's blur (final ε = 0.04) such rows
        // exist: without the fallback (resolvable 0) some row's sum underflows and the value is NaN or wrong, with it the value
        // is the double oracle's to 1e-6 (the table's factors are exact doubles rounded once, the exponential's 2.5e-7 apart).
        // Sending every row to the fallback (resolvable +∞) is the exponential pass: the pinned 512-bit width's value and
        // gradient (to float rounding: g's soft-min then runs along the rows of M_yx, not down the columns of M_xy). Red when the fallback's comparison is inverted (every resolvable row
        // recomputed, the others kept: NaN), when the table's result drops the bound (− highest), or when it is off by a level.
        const int n = 97, m = 83, T = 30, dim = Symbols * T;
        var x = OneHot(Sequences(n, T, 1));
        var y = OneHot(Sequences(m, T, 101));
        var oracle = Sinkhorn.Compute(x, y, dim, SinkhornOptions.Paper).Divergence;
        (double Value, float[] Gradient) Run(OneHotSinkhorn.VectorWidth width, double resolvable)
        {
            using var scope = NewDisposeScope();
            var xg = Cloud(x, dim).requires_grad_();
            var loss = OneHotSinkhorn.TryDivergence(xg, Cloud(y, dim), SinkhornOptions.Paper, width, resolvable)!;
            loss.backward();
            return (loss.ToDouble(), xg.grad!.data<float>().ToArray());
        }
        var table = Run(OneHotSinkhorn.VectorWidth.Bits512Levels, LevelTable.Resolvable);
        Assert.True(Math.Abs(table.Value - oracle) <= 1e-6 * oracle, $"level table {table.Value:R}, oracle {oracle:R}");
        var unresolved = Run(OneHotSinkhorn.VectorWidth.Bits512Levels, 0).Value;
        Assert.False(Math.Abs(unresolved - oracle) <= 1e-4 * oracle, $"without the fallback {unresolved:R} (oracle {oracle:R}): no row needed it");
        var everyRow = Run(OneHotSinkhorn.VectorWidth.Bits512Levels, double.PositiveInfinity);
        var exponential = Run(OneHotSinkhorn.VectorWidth.Bits512, LevelTable.Resolvable);
        Assert.True(Math.Abs(exponential.Value - everyRow.Value) <= 1e-7 * oracle, $"every row recomputed {everyRow.Value:R}, exponential {exponential.Value:R}");
        Assert.True(RelativeL2(everyRow.Gradient, exponential.Gradient) < 1e-6, $"gradients {RelativeL2(everyRow.Gradient, exponential.Gradient):E2} apart");
        Assert.True(RelativeL2(table.Gradient, exponential.Gradient) < 1e-5, $"gradients {RelativeL2(table.Gradient, exponential.Gradient):E2} apart");
    }

    [Avx512Theory]
    [InlineData(31)]
    [InlineData(63)]
    [InlineData(127)]
    public void Level_table_looks_up_every_entry_of_tables_of_one_two_and_four_register_pairs(int highest)
    {
        // Distinct entries table[l] = l + 1, a row cycling through every level 0 … highest (over more than one 64-column block,
        // with a tail), a = 1, scale 1: each written weight is exactly its level's entry, and the sum is Σ (level + 1) exactly
        // (small integers in float). Red when a pair of registers is swapped (bit 5's or bit 6's blend inverted) or a register
        // is loaded twice — at every level, not only the heaviest.
        int entries = LevelTable.Entries(highest);
        Assert.Equal(highest + 1, entries);
        var table = Enumerable.Range(1, entries).Select(v => (float)v).ToArray();
        const int cols = 3 * 128 + 64 + 16 + 5;
        var row = Enumerable.Range(0, cols).Select(j => (byte)(j % (highest + 1))).ToArray();
        var a = Enumerable.Repeat(1f, cols).ToArray();
        var store = new float[cols];
        LevelTable.Write(row, a, table, 1f, store);
        for (int j = 0; j < cols; j++) Assert.True(store[j] == row[j] + 1, $"column {j}, level {row[j]}: {store[j]}");
        Assert.Equal(row.Sum(l => l + 1.0), LevelTable.Sum(row, a, table));
    }

    [Avx512Theory]
    [InlineData(29)]
    [InlineData(61)]
    [InlineData(100)]
    public void Level_table_sums_and_weights_equal_a_direct_computation(int highest)
    {
        // One row by hand in double: levels 0 … highest (T = 29, 61, 100: tables of 32, 64 and 128 entries), a few columns past
        // a multiple of 64 and 16 (the float blocks and the scalar tails run), weights a_j of many magnitudes, ε = 0.3 ·
        // highest/29. The table e^((l − highest)/ε), 0 above highest and below e^−87; the sum Σ a_j e^((M_j − highest)/ε); the
        // written weights the terms over their sum. Red when a level is looked up one off, when the second register (levels
        // 16 … 31) is ignored, or when a block's float sum is dropped; the lookup of every entry is the test above.
        double eps = 0.3 * highest / 29;
        const int cols = 1024 + 64 + 16 + 7;
        var rng = Rng.FromSeed(5);
        var row = new byte[cols];
        var a = new float[cols];
        for (int j = 0; j < cols; j++)
        {
            int level; double u;
            (level, rng) = rng.NextInt(highest + 1);
            (u, rng) = rng.NextDouble();
            row[j] = (byte)level;
            a[j] = (float)Math.Exp(-20 * u);
        }
        var table = new float[LevelTable.Entries(highest)];
        Assert.Equal(highest < 32 ? 32 : highest < 64 ? 64 : 128, table.Length);
        LevelTable.Fill(table, highest, LevelTable.Decay(eps));
        Assert.Equal(1f, table[highest]);
        Assert.Equal((float)Math.Exp(-1 / eps), table[highest - 1]);
        Assert.Equal(0f, table[highest + 1]);
        double expected = 0;
        for (int j = 0; j < cols; j++) expected += a[j] * Math.Exp((row[j] - highest) / eps);
        var sum = LevelTable.Sum(row, a, table);
        Assert.True(Math.Abs(sum - expected) <= 1e-6 * expected, $"sum {sum:R}, direct {expected:R}");
        var weights = new float[cols];
        LevelTable.Write(row, a, table, (float)(1 / sum), weights);
        for (int j = 0; j < cols; j++)
        {
            var direct = a[j] * Math.Exp((row[j] - highest) / eps) / expected;
            Assert.True(Math.Abs(weights[j] - direct) <= 1e-6 * direct + 1e-12, $"weight {j}: {weights[j]:R}, direct {direct:R}");
        }
        // A table underflows to 0 past e^−87, never to a subnormal.
        LevelTable.Fill(table, highest, LevelTable.Decay(0.04));
        Assert.Equal(0f, table[0]);
        Assert.Equal(0f, table[highest - 4]);
        Assert.True(table[highest - 3] > 1e-37f);
    }

    [Avx512Theory]
    [InlineData(40, 23)]
    [InlineData(90, 61)]
    [InlineData(130, 19)]
    public void Match_counts_equal_the_dot_products_of_the_points(int dim, int m)
    {
        // M_ij = x_i · y_j counted from the 0/1 values, against the packed popcounts: one word (D = 40), two (D = 90, the
        // 8-pair AVX-512 loop and its scalar tail at m = 61), three (D = 130, the scalar loop). Red when the second word's
        // count is dropped, when the nibble table's high nibble is not shifted, or when a pair is written one column off.
        const int n = 37;
        var rng = Rng.FromSeed(dim);
        float[] Draw(int count)
        {
            var v = new float[count * dim];
            for (int k = 0; k < v.Length; k++) { double u; (u, rng) = rng.NextDouble(); v[k] = u < 0.4 ? 1 : 0; }
            return v;
        }
        var xv = Draw(n);
        var yv = Draw(m);
        var x = OneHotSinkhorn.BinaryCloud.Pack(xv, n, dim)!;
        var y = OneHotSinkhorn.BinaryCloud.Pack(yv, m, dim)!;
        var levels = new byte[n * m];
        OneHotSinkhorn.Levels.Matches(x, y, levels);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
            {
                int dot = 0;
                for (int k = 0; k < dim; k++) dot += (int)(xv[i * dim + k] * yv[j * dim + k]);
                Assert.True(dot == levels[i * m + j], $"M[{i},{j}] = {levels[i * m + j]}, x·y = {dot}");
            }
    }

    [Fact]
    public void Fast_exponential_is_within_two_ulp_on_the_soft_mins_range()
    {
        // FastExp on [−87, 0] (the soft-min's floored, shifted exponents) against Math.Exp: relative error ≤ 2.5e-7. Red when a
        // polynomial coefficient or the low half of ln 2 is wrong (errors of 1e-5 and more).
        double worst = 0;
        for (double v = -87; v <= 0; v += 0.000731)
        {
            var exact = Math.Exp((float)v);
            double a = FastExp.Of(Vector256.Create((float)v))[0], b = FastExp.Of(Vector512.Create((float)v))[0];
            worst = Math.Max(worst, Math.Max(Math.Abs(a - exact), Math.Abs(b - exact)) / exact);
        }
        Assert.True(worst <= 2.5e-7, $"worst relative error {worst:E2}");
    }

    private static (double Value, float[] Gradient) ValueAndGradient(Tensor x, Tensor y, SinkhornKernel kernel, SinkhornOptions? options = null)
    {
        using var scope = NewDisposeScope();
        var xg = x.detach().clone().requires_grad_();
        var loss = SinkhornLoss.Divergence(xg, y, options ?? SinkhornOptions.Paper, kernel);
        loss.backward();
        return (loss.ToDouble(), xg.grad!.to(ScalarType.Float32).data<float>().ToArray());
    }

    private static double RelativeL2(float[] a, float[] b)
    {
        double num = 0, den = 0;
        for (int k = 0; k < a.Length; k++) { num += ((double)a[k] - b[k]) * ((double)a[k] - b[k]); den += (double)b[k] * b[k]; }
        return Math.Sqrt(num / den);
    }
}
