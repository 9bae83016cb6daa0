using System.Collections.Immutable;
using HmmRnn.Core.Rnn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HmmRnn.Host.Tasks.Ibl;

/// <summary>
/// The IBL network (Schaeffer et al. 2020, §3.1), float64: h' = tanh(W_ih o + b_ih + W_hh h + b_hh)
/// (PyTorch's RNN cell and initialisation, U(−1/√H, 1/√H)), action probabilities softmax(W_out h + b_out)
/// over (left, right). Same mathematics as Core's <see cref="TanhRnn"/> with b = b_ih + b_hh; a test proves it.
/// </summary>
public sealed class IblRnnModel : nn.Module<Tensor, Tensor, (Tensor Hidden, Tensor LogProbabilities)>
{
    private readonly RNNCell cell;
    private readonly Linear readout;

    /// <summary>A network of <paramref name="hidden"/> units taking the task's 3 inputs (left, right, feedback).</summary>
    public IblRnnModel(int hidden) : base(nameof(IblRnnModel))
    {
        if (hidden <= 0) throw new ArgumentOutOfRangeException(nameof(hidden), hidden, "must be > 0");
        Hidden = hidden;
        cell = nn.RNNCell(Inputs, hidden, nn.NonLinearities.Tanh, bias: true);
        readout = nn.Linear(hidden, Outputs, hasBias: true);
        RegisterComponents();
        this.to(float64);
    }

    /// <summary>Inputs per step: left, right, feedback.</summary>
    public const int Inputs = 3;
    /// <summary>Outputs: left, right.</summary>
    public const int Outputs = 2;

    /// <summary>H.</summary>
    public int Hidden { get; }

    /// <summary>One step for a batch: inputs [B, 3], h [B, H] → h' [B, H] and log action probabilities [B, 2].</summary>
    public override (Tensor Hidden, Tensor LogProbabilities) forward(Tensor input, Tensor hidden)
    {
        var h = cell.call(input, hidden);
        return (h, readout.call(h).log_softmax(-1));
    }

    /// <summary>The weights as an immutable value for Core (b = b_ih + b_hh).</summary>
    public TanhRnnWeights Snapshot()
    {
        using var _ = NewDisposeScope();
        static ImmutableArray<double> Copy(Tensor t) => ImmutableArray.Create(t.detach().cpu().contiguous().data<double>().ToArray());
        var bias = cell.get_parameter("bias_ih")!.detach() + cell.get_parameter("bias_hh")!.detach();
        return new TanhRnnWeights(Hidden, Inputs, Outputs, Copy(cell.get_parameter("weight_hh")!), Copy(cell.get_parameter("weight_ih")!),
            Copy(bias), Copy(readout.weight!), Copy(readout.bias!));
    }
}
