using TorchSharp;
using static TorchSharp.torch;

namespace HmmRnn.Host.Training;

/// <summary>
/// The optimiser step every task takes: backward, the gradient-norm clip, and the update — unless the loss or the clipped
/// gradient's norm is not finite. Such a step changes nothing: the gradient is dropped, and the weights and the optimiser's
/// moments stay as they were, so one batch whose rollout overflowed float32 (a noise draw that drove a ReLU network past
/// 3·10³⁸) does not end a run that every other batch trains well. The step's loss is returned either way; the trainer
/// (<see cref="Trainer"/>) counts the steps whose loss is not finite and stops a run that makes too many in a row.
/// </summary>
public static class OptimizerSteps
{
    /// <summary>
    /// Backpropagates <paramref name="loss"/> (a scalar) and updates <paramref name="parameters"/> with <paramref name="optimizer"/>,
    /// the gradient's norm clipped to <paramref name="clip"/> first (null: no clip); returns the loss, or NaN for a finite loss
    /// whose gradient is not. Nothing is updated when the loss or the gradient's norm is not finite.
    /// </summary>
    public static double Take(Tensor loss, optim.Optimizer optimizer, IEnumerable<TorchSharp.Modules.Parameter> parameters, double? clip)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(parameters);
        var value = loss.ToDouble();
        optimizer.zero_grad();
        if (!double.IsFinite(value)) return value;
        loss.backward();
        // Without a clip the norm is measured all the same (a clip at +∞ scales nothing): a NaN gradient must not reach the weights.
        if (!double.IsFinite(nn.utils.clip_grad_norm_(parameters, clip ?? double.PositiveInfinity)))
        {
            optimizer.zero_grad();
            return double.NaN;
        }
        optimizer.step();
        return value;
    }

    /// <summary>Sets every parameter group's learning rate to <paramref name="rate"/>.</summary>
    public static void SetLearningRate(TorchSharp.Modules.OptimizerHelper optimizer, double rate)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        foreach (var group in optimizer.ParamGroups) group.LearningRate = rate;
    }
}
