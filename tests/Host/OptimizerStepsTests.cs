using HmmRnn.Host.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace HmmRnn.Host.Tests;

/// <summary>The one optimiser step of every task (<see cref="OptimizerSteps.Take"/>): a step whose loss or gradient is not finite changes nothing.</summary>
[Collection("torch")]
public class OptimizerStepsTests
{
    /// <summary>A 3 → 2 linear layer with fixed weights and its Adam.</summary>
    private static (nn.Module<Tensor, Tensor> Model, optim.Optimizer Adam) Fresh()
    {
        var model = nn.Linear(3, 2, hasBias: false);
        using (no_grad()) model.weight!.copy_(tensor(new float[] { 0.5f, -1f, 2f, 0.25f, 1.5f, -0.75f }).reshape(2, 3));
        return (model, optim.Adam(model.parameters(), lr: 0.1));
    }

    private static Tensor Input() => tensor(new float[] { 1f, 2f, -1f, 0.5f, 0f, 3f }).reshape(2, 3);

    private static float[] Weights(nn.Module<Tensor, Tensor> model) => model.parameters().Single().data<float>().ToArray();

    // Catches: an update applied from a NaN loss (the weights turn NaN and the run is lost), and Adam's moments touched by a
    // skipped step: afterwards the next finite step must give exactly the weights of a twin that never saw the NaN step.
    [Theory]
    [InlineData(0.9)]
    [InlineData(null)]
    public void A_step_whose_loss_is_not_finite_leaves_the_weights_and_the_optimiser_as_they_were(double? clip)
    {
        var (model, adam) = Fresh();
        var (twin, twinAdam) = Fresh();
        using var x = Input();
        Assert.True(double.IsFinite(OptimizerSteps.Take(model.call(x).square().sum(), adam, model.parameters(), clip)));
        OptimizerSteps.Take(twin.call(x).square().sum(), twinAdam, twin.parameters(), clip);
        var before = Weights(model);
        Assert.NotEqual(new float[] { 0.5f, -1f, 2f, 0.25f, 1.5f, -0.75f }, before); // the finite step moved them

        var returned = OptimizerSteps.Take(model.call(x).square().sum() * double.NaN, adam, model.parameters(), clip);
        Assert.True(double.IsNaN(returned));
        Assert.Equal(before, Weights(model));

        OptimizerSteps.Take(model.call(x).sum(), adam, model.parameters(), clip);
        OptimizerSteps.Take(twin.call(x).sum(), twinAdam, twin.parameters(), clip);
        Assert.Equal(Weights(twin), Weights(model));
    }

    // Catches: a finite loss whose gradient is not (√|w − w₀| at w = w₀: value 0, gradient NaN) applied anyway, with a clip or
    // without one (the IBL distillation and an IBL run without a clip).
    [Theory]
    [InlineData(1.0)]
    [InlineData(null)]
    public void A_finite_loss_whose_gradient_is_not_finite_is_skipped(double? clip)
    {
        var (model, adam) = Fresh();
        var w = model.parameters().Single();
        var before = Weights(model);
        var loss = (w - w.detach()).abs().sqrt().sum();
        Assert.Equal(0, loss.ToDouble());
        Assert.True(double.IsNaN(OptimizerSteps.Take(loss, adam, model.parameters(), clip)));
        Assert.Equal(before, Weights(model));
    }
}
