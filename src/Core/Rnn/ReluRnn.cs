using System.Collections.Immutable;

namespace HmmRnn.Core.Rnn;

/// <summary>
/// The weights of the noise-driven ReLU RNN of Torre et al. (2025), eq. 2:
/// h_t = ReLU(W_hh h_{t−1} + W_ih x_t), y_t = A h_t, without biases. Row-major float32, the layout
/// of PyTorch's nn.RNN (weight_ih_l0: H × D, weight_hh_l0: H × H, readout: O × H).
/// </summary>
public sealed record ReluRnnWeights
{
    /// <summary>Builds and checks the shapes.</summary>
    public ReluRnnWeights(int hidden, int input, int outputs, ImmutableArray<float> inputWeights, ImmutableArray<float> recurrentWeights, ImmutableArray<float> readout)
    {
        if (hidden <= 0) throw new ArgumentOutOfRangeException(nameof(hidden), hidden, "must be positive");
        if (input <= 0) throw new ArgumentOutOfRangeException(nameof(input), input, "must be positive");
        if (outputs <= 0) throw new ArgumentOutOfRangeException(nameof(outputs), outputs, "must be positive");
        Check(inputWeights, hidden * input, nameof(inputWeights), $"{hidden} × {input}");
        Check(recurrentWeights, hidden * hidden, nameof(recurrentWeights), $"{hidden} × {hidden}");
        Check(readout, outputs * hidden, nameof(readout), $"{outputs} × {hidden}");
        (Hidden, Input, Outputs, InputWeights, RecurrentWeights, Readout) = (hidden, input, outputs, inputWeights, recurrentWeights, readout);
    }

    /// <summary>|h|.</summary>
    public int Hidden { get; }
    /// <summary>d, the dimension of the noise input.</summary>
    public int Input { get; }
    /// <summary>Number of output symbols (logits).</summary>
    public int Outputs { get; }
    /// <summary>W_ih, H × D row-major.</summary>
    public ImmutableArray<float> InputWeights { get; }
    /// <summary>W_hh, H × H row-major.</summary>
    public ImmutableArray<float> RecurrentWeights { get; }
    /// <summary>A, O × H row-major.</summary>
    public ImmutableArray<float> Readout { get; }

    private static void Check(ImmutableArray<float> w, int length, string name, string shape)
    {
        if (w.IsDefault || w.Length != length)
            throw new ArgumentException($"{name}: expected {shape} = {length} entries, got {(w.IsDefault ? 0 : w.Length)}", name);
        foreach (var x in w)
            if (!float.IsFinite(x)) throw new ArgumentException($"{name}: contains {x}", name);
    }

    /// <inheritdoc />
    public bool Equals(ReluRnnWeights? other) =>
        other is not null && Hidden == other.Hidden && Input == other.Input && Outputs == other.Outputs
        && InputWeights.AsSpan().SequenceEqual(other.InputWeights.AsSpan())
        && RecurrentWeights.AsSpan().SequenceEqual(other.RecurrentWeights.AsSpan())
        && Readout.AsSpan().SequenceEqual(other.Readout.AsSpan());

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Hidden, Input, Outputs, InputWeights.Length > 0 ? InputWeights[0] : 0f);
}

/// <summary>A trajectory of the RNN: hidden states and logits, step by step.</summary>
/// <param name="Steps">T, the number of steps.</param>
/// <param name="Hidden">h_t, T × H row-major (t = 1 … T; h_0 = 0 is not stored).</param>
/// <param name="Logits">y_t = A h_t, T × O row-major.</param>
public sealed record RnnTrajectory(int Steps, ImmutableArray<double> Hidden, ImmutableArray<double> Logits);

/// <summary>
/// The reference dynamics of the ReLU RNN on plain arrays, in double precision: the oracle that
/// the training host's tensor model is tested against, and the map the analyses take apart.
/// </summary>
public static class ReluRnn
{
    /// <summary>One step: ReLU(W_hh h + W_ih x).</summary>
    public static double[] Step(ReluRnnWeights w, ReadOnlySpan<double> h, ReadOnlySpan<double> x)
    {
        ArgumentNullException.ThrowIfNull(w);
        if (h.Length != w.Hidden) throw new ArgumentException($"h: has {h.Length} entries, the network {w.Hidden}", nameof(h));
        if (x.Length != w.Input) throw new ArgumentException($"x: has {x.Length} entries, the network takes {w.Input}", nameof(x));
        var next = new double[w.Hidden];
        StepInto(w, h, x, next);
        return next;
    }

    /// <summary>Runs from h_0 = 0 on the inputs x_1 … x_T (T × D row-major).</summary>
    public static RnnTrajectory Run(ReluRnnWeights w, ReadOnlySpan<double> inputs)
    {
        ArgumentNullException.ThrowIfNull(w);
        if (inputs.Length % w.Input != 0)
            throw new ArgumentException($"inputs: {inputs.Length} values is not a whole number of steps of {w.Input}", nameof(inputs));
        int T = inputs.Length / w.Input, H = w.Hidden, O = w.Outputs;
        var hidden = new double[T * H];
        var logits = new double[T * O];
        var h = new double[H];
        for (int t = 0; t < T; t++)
        {
            var next = hidden.AsSpan(t * H, H);
            StepInto(w, h, inputs.Slice(t * w.Input, w.Input), next);
            next.CopyTo(h);
            LogitsInto(w, h, logits.AsSpan(t * O, O));
        }
        return new RnnTrajectory(T, ImmutableArray.Create(hidden), ImmutableArray.Create(logits));
    }

    /// <summary>The readout's logits W_out h (the readout has no bias).</summary>
    public static double[] Logits(ReluRnnWeights w, ReadOnlySpan<double> h)
    {
        ArgumentNullException.ThrowIfNull(w);
        if (h.Length != w.Hidden) throw new ArgumentException($"h: has {h.Length} entries, the network {w.Hidden}", nameof(h));
        var logits = new double[w.Outputs];
        LogitsInto(w, h, logits);
        return logits;
    }

    private static void LogitsInto(ReluRnnWeights w, ReadOnlySpan<double> h, Span<double> logits)
    {
        int H = w.Hidden;
        var readout = w.Readout.AsSpan();
        for (int o = 0; o < logits.Length; o++)
        {
            double s = 0;
            var row = readout.Slice(o * H, H);
            for (int j = 0; j < H; j++) s += row[j] * h[j];
            logits[o] = s;
        }
    }

    /// <summary>
    /// One step's pre-activation a = W_hh h + W_ih x: the next state is ReLU(a), and the step's Jacobian is
    /// diag(1[a &gt; 0]) W_hh.
    /// </summary>
    public static double[] PreActivation(ReluRnnWeights w, ReadOnlySpan<double> h, ReadOnlySpan<double> x)
    {
        ArgumentNullException.ThrowIfNull(w);
        if (h.Length != w.Hidden) throw new ArgumentException($"h: has {h.Length} entries, the network {w.Hidden}", nameof(h));
        if (x.Length != w.Input) throw new ArgumentException($"x: has {x.Length} entries, the network takes {w.Input}", nameof(x));
        var a = new double[w.Hidden];
        PreActivationInto(w, h, x, a);
        return a;
    }

    private static void StepInto(ReluRnnWeights w, ReadOnlySpan<double> h, ReadOnlySpan<double> x, Span<double> next)
    {
        PreActivationInto(w, h, x, next);
        for (int i = 0; i < next.Length; i++) next[i] = next[i] > 0 ? next[i] : 0;
    }

    private static void PreActivationInto(ReluRnnWeights w, ReadOnlySpan<double> h, ReadOnlySpan<double> x, Span<double> a)
    {
        int H = w.Hidden, D = w.Input;
        var whh = w.RecurrentWeights.AsSpan();
        var wih = w.InputWeights.AsSpan();
        for (int i = 0; i < H; i++)
        {
            double s = 0;
            var r = whh.Slice(i * H, H);
            for (int j = 0; j < H; j++) s += r[j] * h[j];
            var q = wih.Slice(i * D, D);
            for (int k = 0; k < D; k++) s += q[k] * x[k];
            a[i] = s;
        }
    }
}
