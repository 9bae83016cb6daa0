using HmmRnn.Host.Training;
using static TorchSharp.torch;

namespace HmmRnn.Host.Tasks.Hmm;

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
        var u = rand(logits.shape, dtype: logits.dtype, device: logits.device, generator: generator).Clamp_(1e-10, 1.0);
        var gumbel = u.log_().neg_().log_().neg_();
        var soft = (logits + gumbel).Over(temperature).softmax(-1);
        var hard = nn.functional.one_hot(soft.argmax(-1), soft.shape[^1]).to(soft.dtype);
        return (hard - soft.detach() + soft).MoveToOuterDisposeScope();
    }
}
