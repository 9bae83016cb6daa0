using System.Collections.Immutable;

namespace HmmRnn.Core.Rnn;

/// <summary>
/// The weights of a tanh RNN with a softmax readout, the network of Schaeffer et al. (2020, §3.1):
/// h_t = tanh(W_rec h_{t−1} + W_in o_t + b), logits y_t = W_out h_t + b_out. Row-major, double
/// precision (the layout of PyTorch's nn.RNN and nn.Linear: W_in is H × I, W_rec H × H, W_out O × H).
/// </summary>
public sealed record TanhRnnWeights
{
    /// <summary>Builds and checks the shapes; every entry must be finite.</summary>
    /// <param name="hidden">H.</param>
    /// <param name="inputs">I.</param>
    /// <param name="outputs">O.</param>
    /// <param name="recurrent">W_rec, H × H.</param>
    /// <param name="inputWeights">W_in, H × I.</param>
    /// <param name="bias">b, length H.</param>
    /// <param name="readout">W_out, O × H.</param>
    /// <param name="readoutBias">b_out, length O.</param>
    public TanhRnnWeights(int hidden, int inputs, int outputs, ImmutableArray<double> recurrent, ImmutableArray<double> inputWeights,
        ImmutableArray<double> bias, ImmutableArray<double> readout, ImmutableArray<double> readoutBias)
    {
        if (hidden <= 0) throw new ArgumentOutOfRangeException(nameof(hidden), hidden, "must be positive");
        if (inputs <= 0) throw new ArgumentOutOfRangeException(nameof(inputs), inputs, "must be positive");
        if (outputs <= 0) throw new ArgumentOutOfRangeException(nameof(outputs), outputs, "must be positive");
        Check(recurrent, hidden * hidden, nameof(recurrent), $"{hidden} × {hidden}");
        Check(inputWeights, hidden * inputs, nameof(inputWeights), $"{hidden} × {inputs}");
        Check(bias, hidden, nameof(bias), $"{hidden}");
        Check(readout, outputs * hidden, nameof(readout), $"{outputs} × {hidden}");
        Check(readoutBias, outputs, nameof(readoutBias), $"{outputs}");
        (Hidden, Inputs, Outputs) = (hidden, inputs, outputs);
        (Recurrent, InputWeights, Bias, Readout, ReadoutBias) = (recurrent, inputWeights, bias, readout, readoutBias);
    }

    /// <summary>H, the number of hidden units.</summary>
    public int Hidden { get; }
    /// <summary>I, the input dimension.</summary>
    public int Inputs { get; }
    /// <summary>O, the number of outputs (logits).</summary>
    public int Outputs { get; }
    /// <summary>W_rec, H × H row-major.</summary>
    public ImmutableArray<double> Recurrent { get; }
    /// <summary>W_in, H × I row-major.</summary>
    public ImmutableArray<double> InputWeights { get; }
    /// <summary>b, length H.</summary>
    public ImmutableArray<double> Bias { get; }
    /// <summary>W_out, O × H row-major.</summary>
    public ImmutableArray<double> Readout { get; }
    /// <summary>b_out, length O.</summary>
    public ImmutableArray<double> ReadoutBias { get; }

    /// <summary>W_rec[i, j].</summary>
    public double W(int i, int j) => Recurrent[i * Hidden + j];

    private static void Check(ImmutableArray<double> w, int length, string name, string shape)
    {
        if (w.IsDefault || w.Length != length)
            throw new ArgumentException($"{name}: expected {shape} = {length} entries, got {(w.IsDefault ? 0 : w.Length)}", name);
        foreach (var x in w)
            if (!double.IsFinite(x)) throw new ArgumentException($"{name}: contains {x}", name);
    }

    /// <inheritdoc />
    public bool Equals(TanhRnnWeights? other) =>
        other is not null && Hidden == other.Hidden && Inputs == other.Inputs && Outputs == other.Outputs
        && Recurrent.AsSpan().SequenceEqual(other.Recurrent.AsSpan()) && InputWeights.AsSpan().SequenceEqual(other.InputWeights.AsSpan())
        && Bias.AsSpan().SequenceEqual(other.Bias.AsSpan()) && Readout.AsSpan().SequenceEqual(other.Readout.AsSpan())
        && ReadoutBias.AsSpan().SequenceEqual(other.ReadoutBias.AsSpan());

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Hidden, Inputs, Outputs, Recurrent.Length > 0 ? Recurrent[0] : 0);
}

/// <summary>
/// The reference dynamics of the tanh RNN on plain arrays: the oracle the training host's tensor
/// model is tested against, the policy that plays the IBL task in evaluations, and the map the
/// analyses (flow fields, fixed points, RADD) take apart.
/// </summary>
public static class TanhRnn
{
    /// <summary>One step: tanh(W_rec h + W_in o + b).</summary>
    /// <param name="w">The network.</param>
    /// <param name="h">h_{t−1}, length H.</param>
    /// <param name="input">o_t, length I.</param>
    public static double[] Step(TanhRnnWeights w, ReadOnlySpan<double> h, ReadOnlySpan<double> input)
    {
        var next = new double[Checked(w, h, input)];
        StepInto(w, h, input, next);
        return next;
    }

    /// <summary>
    /// One step into a caller's buffer (no allocation; for hot loops). <paramref name="next"/> must not
    /// overlap <paramref name="h"/>.
    /// </summary>
    public static void StepInto(TanhRnnWeights w, ReadOnlySpan<double> h, ReadOnlySpan<double> input, Span<double> next)
    {
        int H = Checked(w, h, input), I = w.Inputs;
        if (next.Length != H) throw new ArgumentException($"has {next.Length} entries, the network {H}", nameof(next));
        var rec = w.Recurrent.AsSpan();
        var inp = w.InputWeights.AsSpan();
        for (int i = 0; i < H; i++)
        {
            double s = w.Bias[i];
            var r = rec.Slice(i * H, H);
            for (int j = 0; j < H; j++) s += r[j] * h[j];
            var q = inp.Slice(i * I, I);
            for (int k = 0; k < I; k++) s += q[k] * input[k];
            next[i] = Math.Tanh(s);
        }
    }

    /// <summary>The logits W_out h + b_out.</summary>
    public static double[] Logits(TanhRnnWeights w, ReadOnlySpan<double> h)
    {
        ArgumentNullException.ThrowIfNull(w);
        if (h.Length != w.Hidden) throw new ArgumentException($"has {h.Length} entries, the network {w.Hidden}", nameof(h));
        var y = new double[w.Outputs];
        var readout = w.Readout.AsSpan();
        for (int o = 0; o < y.Length; o++)
        {
            double s = w.ReadoutBias[o];
            var row = readout.Slice(o * w.Hidden, w.Hidden);
            for (int j = 0; j < w.Hidden; j++) s += row[j] * h[j];
            y[o] = s;
        }
        return y;
    }

    /// <summary>softmax(W_out h + b_out).</summary>
    public static double[] Probabilities(TanhRnnWeights w, ReadOnlySpan<double> h) => Softmax(Logits(w, h));

    /// <summary>Runs from <paramref name="start"/> on the inputs o_1 … o_T (T × I row-major): h_1 … h_T and their logits.</summary>
    public static RnnTrajectory Run(TanhRnnWeights w, ReadOnlySpan<double> start, ReadOnlySpan<double> inputs)
    {
        ArgumentNullException.ThrowIfNull(w);
        if (inputs.Length % w.Inputs != 0)
            throw new ArgumentException($"{inputs.Length} values is not a whole number of steps of {w.Inputs}", nameof(inputs));
        int T = inputs.Length / w.Inputs, H = w.Hidden, O = w.Outputs;
        var hidden = new double[T * H];
        var logits = new double[T * O];
        var h = start.ToArray();
        if (h.Length != H) throw new ArgumentException($"has {h.Length} entries, the network {H}", nameof(start));
        for (int t = 0; t < T; t++)
        {
            var next = hidden.AsSpan(t * H, H);
            StepInto(w, h, inputs.Slice(t * w.Inputs, w.Inputs), next);
            next.CopyTo(h);
            Logits(w, h).CopyTo(logits.AsSpan(t * O, O));
        }
        return new RnnTrajectory(T, ImmutableArray.Create(hidden), ImmutableArray.Create(logits));
    }

    /// <summary>softmax(y), computed stably.</summary>
    public static double[] Softmax(ReadOnlySpan<double> y)
    {
        if (y.IsEmpty) throw new ArgumentException("needs at least one logit", nameof(y));
        double max = double.NegativeInfinity;
        foreach (var v in y) max = Math.Max(max, v);
        var p = new double[y.Length];
        double sum = 0;
        for (int i = 0; i < y.Length; i++) sum += p[i] = Math.Exp(y[i] - max);
        for (int i = 0; i < y.Length; i++) p[i] /= sum;
        return p;
    }

    private static int Checked(TanhRnnWeights w, ReadOnlySpan<double> h, ReadOnlySpan<double> input)
    {
        ArgumentNullException.ThrowIfNull(w);
        if (h.Length != w.Hidden) throw new ArgumentException($"has {h.Length} entries, the network {w.Hidden}", nameof(h));
        if (input.Length != w.Inputs) throw new ArgumentException($"has {input.Length} entries, the network takes {w.Inputs}", nameof(input));
        return w.Hidden;
    }
}
