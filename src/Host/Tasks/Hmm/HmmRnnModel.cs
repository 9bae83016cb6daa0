using System.Collections.Immutable;
using HmmRnn.Core.Rnn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HmmRnn.Host.Tasks.Hmm;

/// <summary>
/// The noise-driven ReLU RNN (Torre et al. 2025, eq. 2): fused <c>nn.RNN</c> (ReLU, no bias) and a
/// linear readout without bias. Same mathematics as <see cref="ReluRnn"/> in Core; a test proves it.
/// </summary>
public sealed class HmmRnnModel : nn.Module<Tensor, (Tensor Hidden, Tensor Logits)>
{
    private readonly RNN rnn;
    private readonly Linear readout;

    /// <summary>PyTorch-default initialisation, U(−1/√H, 1/√H) everywhere, plus <paramref name="recurrentIdentity"/>·I on W_hh.</summary>
    public HmmRnnModel(int hidden, int input, int outputs, double recurrentIdentity = 0) : base(nameof(HmmRnnModel))
    {
        (Hidden, Input, Outputs) = (hidden, input, outputs);
        rnn = nn.RNN(input, hidden, numLayers: 1, nonLinearity: nn.NonLinearities.ReLU, bias: false, batchFirst: true);
        readout = nn.Linear(hidden, outputs, hasBias: false);
        // nn.Linear's default init is U(−1/√fan_in, 1/√fan_in) with fan_in = H: the paper's k = H.
        RegisterComponents();
        if (recurrentIdentity != 0)
            using (no_grad())
                rnn.get_parameter("weight_hh_l0")!.add_(eye(hidden).mul_(recurrentIdentity));
    }

    /// <summary>|h|.</summary>
    public int Hidden { get; }
    /// <summary>d.</summary>
    public int Input { get; }
    /// <summary>Number of symbols.</summary>
    public int Outputs { get; }

    /// <summary>Noise [B, T, d] → hidden states [B, T, H] and logits [B, T, O], from h_0 = 0.</summary>
    public override (Tensor Hidden, Tensor Logits) forward(Tensor noise)
    {
        var (h, _) = rnn.call(noise, null);
        return (h, readout.call(h));
    }

    /// <summary>
    /// The network's emissions for <paramref name="count"/> sequences of <paramref name="length"/> steps:
    /// fresh noise x_t ~ N(0, I_d) from h_0 = 0, then one-hot hard Gumbel-softmax samples [count, length, O]
    /// (straight-through gradient). The one path from noise to symbols, for training, validation and evaluation.
    /// <paramref name="noiseScale"/> multiplies the noise (σ; training uses 1): the stochastic-resonance sweep varies it.
    /// </summary>
    public Tensor Emit(long count, int length, double temperature, Generator? generator, double noiseScale = 1)
    {
        using var scope = NewDisposeScope();
        var device = readout.weight!.device;
        var noise = randn([count, length, Input], device: device, generator: generator);
        if (noiseScale != 1) noise.mul_(noiseScale);
        var (_, logits) = forward(noise);
        return GumbelSoftmax.Hard(logits, temperature, generator).MoveToOuterDisposeScope();
    }

    /// <summary>The weights as an immutable value (copied to the CPU).</summary>
    public ReluRnnWeights Snapshot()
    {
        using var _ = NewDisposeScope();
        static ImmutableArray<float> Copy(Tensor t) => ImmutableArray.Create(t.detach().cpu().contiguous().data<float>().ToArray());
        return new ReluRnnWeights(Hidden, Input, Outputs,
            Copy(rnn.get_parameter("weight_ih_l0")!), Copy(rnn.get_parameter("weight_hh_l0")!), Copy(readout.weight!));
    }

    /// <summary>Overwrites the weights with <paramref name="w"/> (shapes must match).</summary>
    public void Load(ReluRnnWeights w)
    {
        ArgumentNullException.ThrowIfNull(w);
        if (w.Hidden != Hidden || w.Input != Input || w.Outputs != Outputs)
            throw new ArgumentException($"weights are {w.Hidden}/{w.Input}/{w.Outputs} (hidden/input/outputs), the model {Hidden}/{Input}/{Outputs}", nameof(w));
        using var _ = NewDisposeScope();
        using (no_grad())
        {
            void Set(Tensor p, ImmutableArray<float> v, long[] shape) => p.copy_(tensor(v.ToArray(), shape).to(p.device));
            Set(rnn.get_parameter("weight_ih_l0")!, w.InputWeights, [Hidden, Input]);
            Set(rnn.get_parameter("weight_hh_l0")!, w.RecurrentWeights, [Hidden, Hidden]);
            Set(readout.weight!, w.Readout, [Outputs, Hidden]);
        }
    }
}

/// <summary>Hard Gumbel-softmax with a straight-through gradient (TorchSharp has none built in).</summary>
public static class GumbelSoftmax
{
    /// <summary>
    /// Forward: the one-hot of argmax((logits + g) / τ), g ~ Gumbel(0, 1). Backward: the gradient of
    /// the soft sample softmax((logits + g) / τ).
    /// </summary>
    public static Tensor Hard(Tensor logits, double temperature, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        var u = rand(logits.shape, dtype: logits.dtype, device: logits.device, generator: generator).clamp_(1e-10, 1.0);
        var gumbel = u.log_().neg_().log_().neg_();
        var soft = ((logits + gumbel) / temperature).softmax(-1);
        var hard = nn.functional.one_hot(soft.argmax(-1), soft.shape[^1]).to(soft.dtype);
        return (hard - soft.detach() + soft).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The debiased Sinkhorn divergence on tensors, with the semantics of geomloss
/// <c>SamplesLoss("sinkhorn", p=2, blur, scaling)</c> and of <see cref="Analysis.Sinkhorn"/>:
/// cost ½‖x−y‖², uniform weights, ε-annealing without gradients, symmetric log-domain updates,
/// and the gradient flowing only through the final extrapolation.
/// </summary>
public static class SinkhornLoss
{
    /// <summary>S_ε(x, y) for x [n, D] and y [m, D]; differentiable in x (y is the data).</summary>
    public static Tensor Divergence(Tensor x, Tensor y, Analysis.SinkhornOptions options)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0], m = y.shape[0];
        var aLog = full(n, -Math.Log(n), dtype: x.dtype, device: x.device);
        var bLog = full(m, -Math.Log(m), dtype: x.dtype, device: x.device);
        double diameter;
        using (no_grad())
        {
            var both = cat([x.detach(), y.detach()]);
            diameter = (both.max(0).values - both.min(0).values).norm().ToDouble();
        }
        var eps = options.Epsilons(diameter);
        Tensor fBa, gAb, fAa, gBb;
        using (no_grad())
        {
            Tensor xd = x.detach(), yd = y.detach();
            Tensor cxy = Cost(xd, yd), cyx = cxy.t(), cxx = Cost(xd, xd), cyy = Cost(yd, yd);
            gAb = SoftMin(eps[0], cyx, aLog); fBa = SoftMin(eps[0], cxy, bLog);
            fAa = SoftMin(eps[0], cxx, aLog); gBb = SoftMin(eps[0], cyy, bLog);
            foreach (var e in eps)
            {
                var ftBa = SoftMin(e, cxy, bLog + gAb / e);
                var gtAb = SoftMin(e, cyx, aLog + fBa / e);
                var ftAa = SoftMin(e, cxx, aLog + fAa / e);
                var gtBb = SoftMin(e, cyy, bLog + gBb / e);
                fBa = 0.5 * (fBa + ftBa); gAb = 0.5 * (gAb + gtAb);
                fAa = 0.5 * (fAa + ftAa); gBb = 0.5 * (gBb + gtBb);
            }
        }
        var last = eps[^1];
        var yDet = y.detach();
        var f = SoftMin(last, Cost(x, yDet), bLog + gAb / last);
        var g = SoftMin(last, Cost(yDet, x.detach()), aLog + fBa / last); // as geomloss: C_yx = cost(y, x.detach())
        var fa = SoftMin(last, Cost(x, x.detach()), aLog + fAa / last);
        var gb = SoftMin(last, Cost(yDet, yDet), bLog + gBb / last);
        var loss = (aLog.exp() * (f - fa)).sum() + (bLog.exp() * (g - gb)).sum();
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>½‖x_i − y_j‖².</summary>
    private static Tensor Cost(Tensor x, Tensor y) => cdist(x, y).pow(2).div(2);

    /// <summary>softmin_ε(C, h)_i = −ε log Σ_j exp(h_j − C_ij / ε).</summary>
    private static Tensor SoftMin(double eps, Tensor c, Tensor h) => (h.unsqueeze(0) - c / eps).logsumexp(1).mul(-eps);
}
