using HmmRnn.Host.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace HmmRnn.Host.Tasks.Hmm;

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
            var aLog = HeldScalars.Full(n, -Math.Log(n), x.dtype, x.device);
            var bLog = HeldScalars.Full(m, -Math.Log(m), x.dtype, x.device);
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
                var ftBa = w.Rows(e, cxy, bLog + gAb.Over(e));
                var gtAb = w.Columns(e, cxy, aLog + fBa.Over(e));
                var ftAa = w.Rows(e, cxx, aLog + fAa.Over(e));
                var gtBb = w.Rows(e, cyy, bLog + gBb.Over(e));
                fBa = (fBa + ftBa).Times(0.5); gAb = (gAb + gtAb).Times(0.5);
                fAa = (fAa + ftAa).Times(0.5); gBb = (gBb + gtBb).Times(0.5);
            }
            var last = eps[^1];
            var f = w.Rows(last, cxy, bLog + gAb.Over(last));
            var py = w.LastWeights(n, m).matmul(yd);
            var fa = w.Rows(last, cxx, aLog + fAa.Over(last));
            var qx = w.LastWeights(n, n).matmul(xd);
            var g = w.Columns(last, cxy, aLog + fBa.Over(last));
            var gb = w.Rows(last, cyy, bLog + gBb.Over(last));
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
        var c = x.matmul(y.t()).Times_(-1);
        c.add_(x.square().sum(1).Times_(0.5).unsqueeze(1)).add_(y.square().sum(1).Times_(0.5).unsqueeze(0));
        return c.ClampMin_(0);
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
            z.copy_(c).Times_(-1 / eps).add_(h);
            var max = z.amax([dim], keepdim: true);
            lastSum = z.sub_(max).ClampMin_(-60).exp_().sum(dim, keepdim: true);
            return lastSum.log().add_(max).squeeze(dim).Times_(-eps);
        }
    }
}
