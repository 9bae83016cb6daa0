using System.Collections.Immutable;
using HmmRnn.Core.Rnn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HmmRnn.Host.Tasks.FlipFlop;

/// <summary>
/// The flip-flop network, float64: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh) from h_0 = 0 (fused <c>nn.RNN</c>,
/// PyTorch's initialisation), outputs y_t = W_out h_t + b_out. Core's <see cref="TanhRnn"/> with b = b_ih + b_hh
/// (<see cref="Snapshot"/>) is the same map, which the fixed-point analysis takes apart.
/// </summary>
public sealed class FlipFlopModel : nn.Module<Tensor, Tensor>
{
    private readonly RNN rnn;
    private readonly Linear readout;

    /// <summary>A network of <paramref name="hidden"/> units with <paramref name="channels"/> inputs and outputs.</summary>
    public FlipFlopModel(int channels, int hidden) : base(nameof(FlipFlopModel))
    {
        (Channels, Hidden) = (channels, hidden);
        rnn = nn.RNN(channels, hidden, numLayers: 1, nonLinearity: nn.NonLinearities.Tanh, bias: true, batchFirst: true);
        readout = nn.Linear(hidden, channels, hasBias: true);
        RegisterComponents();
        this.to(float64);
    }

    /// <summary>Input channels = outputs.</summary>
    public int Channels { get; }
    /// <summary>H.</summary>
    public int Hidden { get; }

    /// <summary>Inputs [B, T, C] → outputs [B, T, C].</summary>
    public override Tensor forward(Tensor input) => readout.call(States(input));

    /// <summary>The hidden states [B, T, H] from h_0 = 0.</summary>
    public Tensor States(Tensor input)
    {
        var (h, _) = rnn.call(input, null);
        return h;
    }

    /// <summary>The weights as an immutable value for Core and Analysis (b = b_ih + b_hh).</summary>
    public TanhRnnWeights Snapshot()
    {
        using var _ = NewDisposeScope();
        static ImmutableArray<double> Copy(Tensor t) => ImmutableArray.Create(t.detach().cpu().contiguous().data<double>().ToArray());
        var bias = rnn.get_parameter("bias_ih_l0")!.detach() + rnn.get_parameter("bias_hh_l0")!.detach();
        return new TanhRnnWeights(Hidden, Channels, Channels, Copy(rnn.get_parameter("weight_hh_l0")!), Copy(rnn.get_parameter("weight_ih_l0")!),
            Copy(bias), Copy(readout.weight!), Copy(readout.bias!));
    }
}
