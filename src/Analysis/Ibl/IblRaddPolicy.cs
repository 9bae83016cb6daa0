using System.Collections.Immutable;
using HmmRnn.Analysis.Dynamics;
using HmmRnn.Core.Ibl;

namespace HmmRnn.Analysis.Ibl;

/// <summary>
/// A RADD-distilled 2-unit model playing the IBL task on its own (Schaeffer et al. 2020, §3.3.2): its
/// state z follows z_t = κ tanh(A′ z_{t−1}/κ + B′ o_t + c′) from the teacher's projected start state, and
/// its action logit (right − left) is <c>ReadoutScale · z_stimulus + ReadoutBias</c>, the readout fitted to
/// the teacher's logit difference. It acts when either side's probability passes the threshold.
/// </summary>
/// <param name="Model">The distilled dynamics (inputs: left, right, feedback).</param>
/// <param name="Start">z_0: the projection of the teacher's h_0 = 0.</param>
/// <param name="ReadoutScale">Logit difference per unit of z along the stimulus readout.</param>
/// <param name="ReadoutBias">Logit difference at z = 0.</param>
/// <param name="Threshold">The action threshold (paper 0.9).</param>
public sealed record IblRaddPolicy(RaddModel Model, ImmutableArray<double> Start, double ReadoutScale, double ReadoutBias, double Threshold = IblActionRule.PaperThreshold)
    : IIblPolicy<ImmutableArray<double>>
{
    /// <inheritdoc />
    ImmutableArray<double> IIblPolicy<ImmutableArray<double>>.Start(IblTaskConfig config)
    {
        ArgumentNullException.ThrowIfNull(Model);
        if (Model.Inputs != 3) throw new ArgumentException($"the model takes {Model.Inputs} inputs; the IBL task gives 3", nameof(Model));
        if (Start.Length != Model.Units) throw new ArgumentException($"has {Start.Length} entries, the model {Model.Units} units", nameof(Start));
        return Start;
    }

    /// <inheritdoc />
    public (IblDecision Decision, ImmutableArray<double> Next) Step(ImmutableArray<double> state, IblStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        var z = Radd.Step(Model, state, [.. step.Input.ToArray()]);
        var right = 1 / (1 + Math.Exp(-(ReadoutScale * z[0] + ReadoutBias)));
        return (new IblDecision(IblActionRule.Act(step.IsBlank, 1 - right, right, Threshold), right), z);
    }

    /// <inheritdoc />
    public ImmutableArray<double> EndTrial(ImmutableArray<double> state, IblOutcome outcome) => state;

    /// <inheritdoc />
    public double BlockPriorRight(ImmutableArray<double> state) => double.NaN;
}
