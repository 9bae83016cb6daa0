using System.Collections.Immutable;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;
using HmmRnn.Core.Rnn;

namespace HmmRnn.Analysis.Dynamics;

/// <summary>One unbroken stretch of a teacher network's run: its projected states and the inputs that drove them.</summary>
/// <param name="States">z_t = P h_t, t = 1 … T, each of length M.</param>
/// <param name="Inputs">o_t, t = 1 … T, each of length I: the input the network took in at step t.</param>
public sealed record RaddSequence(ImmutableArray<ImmutableArray<double>> States, ImmutableArray<ImmutableArray<double>> Inputs);

/// <summary>How <see cref="Radd.Fit"/> scales the states before taking artanh.</summary>
/// <param name="Scale">κ; null to use <paramref name="Margin"/> × max |z| over all states and units.</param>
/// <param name="Margin">The factor above the largest |z| when κ is chosen from the data (paper 1.01).</param>
public sealed record RaddOptions(double? Scale = null, double Margin = 1.01)
{
    /// <summary>The paper's choice: κ = 1.01 · max |z|.</summary>
    public static RaddOptions Paper { get; } = new();
}

/// <summary>How well the closed-form regression fits, on the artanh targets it solves for.</summary>
/// <param name="Pairs">Consecutive (z_{t−1}, o_t → z_t) pairs regressed on.</param>
/// <param name="RSquared">Per unit: 1 − SSE / SST of artanh(z_t / κ).</param>
/// <param name="ResidualRms">Root mean square residual over all units and pairs.</param>
public sealed record RaddFit(int Pairs, ImmutableArray<double> RSquared, double ResidualRms);

/// <summary>
/// A RADD-distilled RNN (Schaeffer et al. 2020, §3.3.2): in the scaled coordinates u = z / κ,
/// u_t = tanh(A′ u_{t−1} + B′ o_t + c′).
/// </summary>
/// <param name="Units">M, the number of units (rows of the projection).</param>
/// <param name="Inputs">I, the input dimension.</param>
/// <param name="Recurrent">A′, M × M row-major.</param>
/// <param name="InputWeights">B′, M × I row-major.</param>
/// <param name="Bias">c′, length M.</param>
/// <param name="Scale">κ: z = κ u.</param>
/// <param name="Fit">The regression's goodness of fit.</param>
public sealed record RaddModel(int Units, int Inputs, ImmutableArray<double> Recurrent, ImmutableArray<double> InputWeights,
    ImmutableArray<double> Bias, double Scale, RaddFit Fit)
{
    /// <summary>A′[i, j].</summary>
    public double A(int i, int j) => Recurrent[i * Units + j];

    /// <summary>B′[i, k].</summary>
    public double B(int i, int k) => InputWeights[i * Inputs + k];

    /// <summary>
    /// The distilled RNN as a tanh network in the scaled coordinates u = z / κ: W_rec = A′, W_in = B′,
    /// b = c′, and the readout κ I (no bias), so that its logits are z = κ u. Fixed points, flow fields
    /// and Jacobians of the distilled model come from the same code as the teacher's.
    /// </summary>
    public TanhRnnWeights AsTanhRnn()
    {
        var readout = new double[Units * Units];
        for (int i = 0; i < Units; i++) readout[i * Units + i] = Scale;
        return new TanhRnnWeights(Units, Inputs, Units, Recurrent, InputWeights, Bias, ImmutableArray.Create(readout),
            ImmutableArray.Create(new double[Units]));
    }

    /// <inheritdoc />
    public bool Equals(RaddModel? other) =>
        other is not null && Units == other.Units && Inputs == other.Inputs && Scale == other.Scale
        && Recurrent.AsSpan().SequenceEqual(other.Recurrent.AsSpan()) && InputWeights.AsSpan().SequenceEqual(other.InputWeights.AsSpan())
        && Bias.AsSpan().SequenceEqual(other.Bias.AsSpan()) && Fit.Pairs == other.Fit.Pairs;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Units, Inputs, Scale, Fit.Pairs);
}

/// <summary>
/// Representation and Dynamics Distillation (Schaeffer et al. 2020, §3.3.2 and SI 7.3; SPEC B4) in
/// closed form. Project the teacher's hidden states, z = P h; scale, u = z / κ; then ordinary least
/// squares of artanh(u_t) on [u_{t−1}, o_t, 1] gives A′, B′ and c′ at once — no gradient descent.
/// </summary>
public static class Radd
{
    /// <summary>z_t = P h_t for every state.</summary>
    /// <param name="hidden">h_t, each of length N.</param>
    /// <param name="projection">The rows of P (e.g. the stimulus and block readouts, or the top PCs), each of length N.</param>
    /// <exception cref="ArgumentException">A state or row of the wrong length, or no rows.</exception>
    public static ImmutableArray<ImmutableArray<double>> Project(IReadOnlyList<ImmutableArray<double>> hidden, IReadOnlyList<ImmutableArray<double>> projection)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        ArgumentNullException.ThrowIfNull(projection);
        if (projection.Count == 0) throw new ArgumentException("needs at least one row", nameof(projection));
        var n = projection[0].Length;
        for (int r = 0; r < projection.Count; r++)
            if (projection[r].Length != n) throw new ArgumentException($"row {r} has {projection[r].Length} entries, row 0 has {n}", nameof(projection));
        var z = ImmutableArray.CreateBuilder<ImmutableArray<double>>(hidden.Count);
        for (int t = 0; t < hidden.Count; t++)
        {
            if (hidden[t].Length != n) throw new ArgumentException($"state {t} has {hidden[t].Length} units, the projection {n}", nameof(hidden));
            var row = new double[projection.Count];
            for (int r = 0; r < row.Length; r++)
            {
                double s = 0;
                for (int k = 0; k < n; k++) s += projection[r][k] * hidden[t][k];
                row[r] = s;
            }
            z.Add(ImmutableArray.Create(row));
        }
        return z.MoveToImmutable();
    }

    /// <summary>
    /// Fits A′, B′, c′ by ordinary least squares of artanh(z_t / κ) on [z_{t−1} / κ, o_t, 1] over the
    /// consecutive pairs within each sequence (never across sequences).
    /// </summary>
    /// <param name="sequences">The teacher's projected states and inputs.</param>
    /// <param name="options">The scale κ (default: the paper's 1.01 × max |z|).</param>
    /// <exception cref="ArgumentException">
    /// Ragged or non-finite data, a scale that leaves some |z| / κ ≥ 1, fewer pairs than regressors,
    /// or regressors that are linearly dependent (e.g. an input that never changes).
    /// </exception>
    public static RaddModel Fit(IReadOnlyList<RaddSequence> sequences, RaddOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        options ??= RaddOptions.Paper;
        var (m, inputs, pairs, maxAbs) = Shape(sequences);
        var scale = options.Scale ?? options.Margin * maxAbs;
        if (!(scale > 0 && double.IsFinite(scale)))
            throw new ArgumentException($"scale κ = {scale}: must be finite and > 0 (all states zero?)", nameof(options));
        if (maxAbs / scale >= 1)
            throw new ArgumentException($"scale κ = {scale}: max |z| = {maxAbs} must lie below it (artanh(z / κ) needs |z| < κ)", nameof(options));
        int p = m + inputs + 1;
        if (pairs < p)
            throw new ArgumentException($"{pairs} consecutive pairs for {p} regressors per unit: need at least as many pairs", nameof(sequences));

        var x = Matrix<double>.Build.Dense(pairs, p);
        var y = Matrix<double>.Build.Dense(pairs, m);
        int row = 0;
        foreach (var s in sequences)
            for (int t = 1; t < s.States.Length; t++, row++)
            {
                for (int j = 0; j < m; j++) x[row, j] = s.States[t - 1][j] / scale;
                for (int k = 0; k < inputs; k++) x[row, m + k] = s.Inputs[t][k];
                x[row, p - 1] = 1;
                for (int i = 0; i < m; i++) y[row, i] = Math.Atanh(s.States[t][i] / scale);
            }

        var qr = x.QR(QRMethod.Thin);
        var diag = qr.R.Diagonal().PointwiseAbs();
        if (diag.Minimum() <= 1e-10 * diag.Maximum())
            throw new ArgumentException(
                $"the regressors [z_(t-1)/κ ({m}), inputs ({inputs}), 1] are linearly dependent (column {diag.MinimumIndex()}): " +
                "an input that never changes duplicates the bias", nameof(sequences));
        var beta = qr.Solve(y); // p × m

        var residual = y - x * beta;
        var r2 = new double[m];
        double totalSse = 0;
        for (int i = 0; i < m; i++)
        {
            var target = y.Column(i);
            var mean = target.Average();
            var sst = target.Sum(v => (v - mean) * (v - mean));
            var r = residual.Column(i);
            var sse = r.DotProduct(r);
            totalSse += sse;
            r2[i] = sst > 0 ? 1 - sse / sst : double.NaN;
        }
        var rms = Math.Sqrt(totalSse / (pairs * m));

        var a = new double[m * m];
        var b = new double[m * inputs];
        var c = new double[m];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < m; j++) a[i * m + j] = beta[j, i];
            for (int k = 0; k < inputs; k++) b[i * inputs + k] = beta[m + k, i];
            c[i] = beta[p - 1, i];
        }
        return new RaddModel(m, inputs, ImmutableArray.Create(a), ImmutableArray.Create(b), ImmutableArray.Create(c), scale,
            new RaddFit(pairs, ImmutableArray.Create(r2), rms));
    }

    /// <summary>One step of the distilled RNN, in the teacher's units: z_t = κ tanh(A′ z_{t−1} / κ + B′ o_t + c′).</summary>
    /// <param name="model">The distilled RNN.</param>
    /// <param name="previous">z_{t−1}, length M.</param>
    /// <param name="input">o_t, length I.</param>
    public static ImmutableArray<double> Step(RaddModel model, ImmutableArray<double> previous, ImmutableArray<double> input)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Step(model, model.AsTanhRnn(), previous, input);
    }

    /// <summary>z_t = κ · TanhRnn.Step(net, z_{t−1} / κ, o_t), with <paramref name="net"/> = <paramref name="model"/>.AsTanhRnn().</summary>
    private static ImmutableArray<double> Step(RaddModel model, TanhRnnWeights net, ImmutableArray<double> previous, ImmutableArray<double> input)
    {
        if (previous.Length != model.Units) throw new ArgumentException($"has {previous.Length} entries, the model {model.Units} units", nameof(previous));
        if (input.Length != model.Inputs) throw new ArgumentException($"has {input.Length} entries, the model {model.Inputs} inputs", nameof(input));
        var u = new double[model.Units];
        for (int j = 0; j < u.Length; j++) u[j] = previous[j] / model.Scale;
        var next = TanhRnn.Step(net, u, input.AsSpan());
        for (int i = 0; i < next.Length; i++) next[i] *= model.Scale;
        return ImmutableArray.Create(next);
    }

    /// <summary>
    /// Runs the distilled RNN on its own from the teacher's first state (ẑ_1 = z_1), driven by the
    /// teacher's inputs o_2 … o_T: the free-running trajectory ẑ_1 … ẑ_T the paper compares with z.
    /// </summary>
    /// <param name="model">The distilled RNN.</param>
    /// <param name="start">ẑ_1 = z_1.</param>
    /// <param name="inputs">o_1 … o_T; o_1 is not used (the start state has already taken it in).</param>
    public static ImmutableArray<ImmutableArray<double>> Run(RaddModel model, ImmutableArray<double> start, IReadOnlyList<ImmutableArray<double>> inputs)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputs);
        if (start.Length != model.Units) throw new ArgumentException($"has {start.Length} entries, the model {model.Units} units", nameof(start));
        var net = model.AsTanhRnn();
        var z = ImmutableArray.CreateBuilder<ImmutableArray<double>>(Math.Max(1, inputs.Count));
        z.Add(start);
        for (int t = 1; t < inputs.Count; t++) z.Add(Step(model, net, z[t - 1], inputs[t]));
        return z.ToImmutable();
    }

    private static (int Units, int Inputs, int Pairs, double MaxAbs) Shape(IReadOnlyList<RaddSequence> sequences)
    {
        if (sequences.Count == 0) throw new ArgumentException("needs at least one sequence", nameof(sequences));
        int m = -1, inputs = -1, pairs = 0;
        double maxAbs = 0;
        for (int n = 0; n < sequences.Count; n++)
        {
            var s = sequences[n] ?? throw new ArgumentException($"sequence {n} is null", nameof(sequences));
            if (s.States.IsDefault || s.Inputs.IsDefault || s.States.Length != s.Inputs.Length)
                throw new ArgumentException($"sequence {n}: {(s.States.IsDefault ? 0 : s.States.Length)} states but {(s.Inputs.IsDefault ? 0 : s.Inputs.Length)} inputs; need one input per state", nameof(sequences));
            for (int t = 0; t < s.States.Length; t++)
            {
                if (m < 0) { m = s.States[t].Length; inputs = s.Inputs[t].Length; }
                if (s.States[t].Length != m || m == 0)
                    throw new ArgumentException($"sequence {n}, step {t}: state of length {s.States[t].Length}, expected {m} (> 0)", nameof(sequences));
                if (s.Inputs[t].Length != inputs)
                    throw new ArgumentException($"sequence {n}, step {t}: input of length {s.Inputs[t].Length}, expected {inputs}", nameof(sequences));
                foreach (var v in s.States[t])
                {
                    if (!double.IsFinite(v)) throw new ArgumentException($"sequence {n}, step {t}: state contains {v}", nameof(sequences));
                    maxAbs = Math.Max(maxAbs, Math.Abs(v));
                }
                foreach (var v in s.Inputs[t])
                    if (!double.IsFinite(v)) throw new ArgumentException($"sequence {n}, step {t}: input contains {v}", nameof(sequences));
            }
            pairs += Math.Max(0, s.States.Length - 1);
        }
        if (m < 0) throw new ArgumentException("every sequence is empty", nameof(sequences));
        return (m, inputs, pairs, maxAbs);
    }
}
