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
        var (_, outputs) = EmitWithStates(count, length, temperature, generator, noiseScale);
        return outputs.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <see cref="Emit"/> with the hidden states that produced the emissions: h [count, length, H] and the one-hot samples
    /// [count, length, O]. The same draws from <paramref name="generator"/> as <see cref="Emit"/>.
    /// </summary>
    public (Tensor Hidden, Tensor Outputs) EmitWithStates(long count, int length, double temperature, Generator? generator, double noiseScale = 1)
    {
        using var scope = NewDisposeScope();
        var (h, logits) = forward(Noise(count, length, generator, noiseScale));
        var outputs = GumbelSoftmax.Hard(logits, temperature, generator);
        return (h.MoveToOuterDisposeScope(), outputs.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The hidden states of <paramref name="count"/> noise-driven runs of <paramref name="length"/> steps from h_0 = 0, without the
    /// readout: [count, length, H]. The boundedness check's runs.
    /// </summary>
    public Tensor States(long count, int length, Generator? generator, double noiseScale = 1)
    {
        using var scope = NewDisposeScope();
        var (h, _) = rnn.call(Noise(count, length, generator, noiseScale), null);
        return h.MoveToOuterDisposeScope();
    }

    private Tensor Noise(long count, int length, Generator? generator, double noiseScale)
    {
        var noise = randn([count, length, Input], device: readout.weight!.device, generator: generator);
        return noiseScale != 1 ? noise.mul_(noiseScale) : noise;
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
/// <c>SamplesLoss("sinkhorn", p=2, blur, scaling)</c> and of <see cref="Analysis.Numerics.Sinkhorn"/>:
/// cost ½‖x−y‖², uniform weights, ε-annealing without gradients, symmetric log-domain updates,
/// and the gradient of the final extrapolation only.
/// </summary>
/// <remarks>
/// That gradient is written out instead of left to autograd: with the potentials held fixed, the final
/// extrapolation's f_i = softmin_j(C(x_i, y_j) − g_j) and fa_i = softmin_k(C(x_i, x̄_k) − fa_k) (x̄: x detached, as
/// geomloss) give ∇_{x_i} S = a_i Σ_j P_ij (x_i − y_j) − a_i Σ_k Q_ik (x_i − x̄_k) = a_i ((Q x̄)_i − (P y)_i), with P and Q
/// the row-softmax weights of the two soft-minima; g and gb carry no gradient. So the whole loss runs under
/// <c>no_grad</c> on three cost matrices and one work buffer, every pass in place. At the paper's batch of 4096 each
/// n×n float32 matrix is 64 MB, and on our 2-core VM a fresh one costs ≈ 0.13 s in page faults alone, against 4 ms for
/// an in-place pass: autograd's version allocated about 100 of them per step. Exponents are floored at −60 before exp:
/// at small ε most terms underflow into subnormal floats, which cost the CPU ~100× a normal one (half the remaining time),
/// while a term of e^−60 ≈ 9e−27 instead of less changes a sum ≥ 1 of at most 4096 terms by &lt; 4e−23. Forward and
/// backward at n = 4096, D = 90: 24 s with autograd, 1.2 s now (docs/benchmarks.md).
/// </remarks>
public static class SinkhornLoss
{
    /// <summary>
    /// S_ε(x, y) for x [n, D] and y [m, D]; differentiable in x (y is the data). <paramref name="kernel"/> picks the
    /// implementation: by default <see cref="OneHotSinkhorn"/> for binary CPU float32 clouds (the training loss's one-hot
    /// sequences: the same value and gradient, several times faster), this general one for anything else.
    /// </summary>
    public static Tensor Divergence(Tensor x, Tensor y, Analysis.Numerics.SinkhornOptions options, SinkhornKernel kernel = SinkhornKernel.Auto)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(options);
        if (kernel == SinkhornKernel.OneHot) return OneHotSinkhorn.Divergence(x, y, options);
        if (kernel == SinkhornKernel.Auto && OneHotSinkhorn.TryDivergence(x, y, options) is { } fast) return fast;
        return General(x, y, options);
    }

    /// <summary>The general loss: any points, any device.</summary>
    private static Tensor General(Tensor x, Tensor y, Analysis.Numerics.SinkhornOptions options)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0], m = y.shape[0];
        Tensor value, gradient;
        using (no_grad())
        {
            Tensor xd = x.detach(), yd = y.detach();
            var aLog = full(n, -Math.Log(n), dtype: x.dtype, device: x.device);
            var bLog = full(m, -Math.Log(m), dtype: x.dtype, device: x.device);
            var both = cat([xd, yd]);
            var diameter = (both.amax(0) - both.amin(0)).norm().ToDouble();
            var eps = options.Epsilons(diameter);
            Tensor cxy = Cost(xd, yd), cxx = Cost(xd, xd), cyy = Cost(yd, yd);
            var work = empty(Math.Max(n, m) * Math.Max(n, m), dtype: x.dtype, device: x.device);
            var w = new SoftMins(work);
            // C_yx = C_xyᵀ: the soft-minimum over x of the transpose is a column reduction of C_xy.
            var gAb = w.Columns(eps[0], cxy, aLog); var fBa = w.Rows(eps[0], cxy, bLog);
            var fAa = w.Rows(eps[0], cxx, aLog); var gBb = w.Rows(eps[0], cyy, bLog);
            foreach (var e in eps)
            {
                var ftBa = w.Rows(e, cxy, bLog + gAb / e);
                var gtAb = w.Columns(e, cxy, aLog + fBa / e);
                var ftAa = w.Rows(e, cxx, aLog + fAa / e);
                var gtBb = w.Rows(e, cyy, bLog + gBb / e);
                fBa = 0.5 * (fBa + ftBa); gAb = 0.5 * (gAb + gtAb);
                fAa = 0.5 * (fAa + ftAa); gBb = 0.5 * (gBb + gtBb);
            }
            var last = eps[^1];
            var f = w.Rows(last, cxy, bLog + gAb / last);
            var py = w.LastWeights(n, m).matmul(yd);
            var fa = w.Rows(last, cxx, aLog + fAa / last);
            var qx = w.LastWeights(n, n).matmul(xd);
            var g = w.Columns(last, cxy, aLog + fBa / last);
            var gb = w.Rows(last, cyy, bLog + gBb / last);
            value = (aLog.exp() * (f - fa)).sum() + (bLog.exp() * (g - gb)).sum();
            gradient = (qx - py).mul_(aLog.exp().unsqueeze(1));
        }
        // value + ⟨x, ∇⟩ − ⟨x, ∇⟩ detached: the value unchanged, the gradient ∇.
        var linear = (x * gradient).sum();
        return (value + (linear - linear.detach())).MoveToOuterDisposeScope();
    }

    /// <summary>½‖x_i − y_j‖² = ½‖x_i‖² + ½‖y_j‖² − x_i·y_j, floored at 0 (rounding), one n×m allocation.</summary>
    private static Tensor Cost(Tensor x, Tensor y)
    {
        var c = x.matmul(y.t()).mul_(-1);
        c.add_(x.square().sum(1).mul_(0.5).unsqueeze(1)).add_(y.square().sum(1).mul_(0.5).unsqueeze(0));
        return c.clamp_min_(0);
    }

    /// <summary>
    /// softmin_ε(C, h) = −ε log Σ exp(h − C/ε) along rows or columns, computed in one reused buffer; after each call the
    /// buffer holds exp(h − C/ε − max) of that soft-minimum, which <see cref="LastWeights"/> normalises.
    /// </summary>
    private sealed class SoftMins(Tensor work)
    {
        private Tensor? lastSum;

        /// <summary>softmin over j of row i: −ε log Σ_j exp(h_j − C_ij/ε), [rows].</summary>
        public Tensor Rows(double eps, Tensor c, Tensor h) => Reduce(eps, c, h.unsqueeze(0), 1);

        /// <summary>softmin over i of column j: −ε log Σ_i exp(h_i − C_ij/ε), [columns].</summary>
        public Tensor Columns(double eps, Tensor c, Tensor h) => Reduce(eps, c, h.unsqueeze(1), 0);

        /// <summary>The row-normalised weights of the last <see cref="Rows"/> call, [rows, columns] (a view of the buffer).</summary>
        public Tensor LastWeights(long rows, long columns) => work.narrow(0, 0, rows * columns).view(rows, columns).div_(lastSum!);

        private Tensor Reduce(double eps, Tensor c, Tensor h, long dim)
        {
            var z = work.narrow(0, 0, c.NumberOfElements).view(c.shape);
            z.copy_(c).mul_(-1 / eps).add_(h);
            var max = z.amax([dim], keepdim: true);
            lastSum = z.sub_(max).clamp_min_(-60).exp_().sum(dim, keepdim: true);
            return lastSum.log().add_(max).squeeze(dim).mul_(-eps);
        }
    }
}
