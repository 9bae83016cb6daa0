using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using HmmRnn.Analysis.Dynamics;
using HmmRnn.Analysis.Ibl;
using HmmRnn.Core;
using HmmRnn.Core.Ibl;
using HmmRnn.Core.Rnn;
using HmmRnn.Testing;

namespace HmmRnn.Properties;

/// <summary>Policies on the IBL task: the tanh RNN as Core plays it, and a RADD-distilled model closed-loop.</summary>
public class IblPolicyProperties
{
    /// <summary>
    /// A 2-unit tanh teacher for the task (3 inputs, 2 outputs) whose action logit reads unit 0 only. Gain 0.5:
    /// at gain 1 some teachers saturate (|h| = 1 − 1e-12) and artanh amplifies rounding to 2e-8 (seed 59).
    /// </summary>
    private static TanhRnnWeights Teacher(int seed)
    {
        var w = RnnGen.RandomTanh(2, 3, 2, 0.5, Rng.FromSeed(seed));
        // W_out rows: left = 0, right = (a, 0): the logit difference is a·h₀ + (b_R − b_L), so a readout of z₀ alone can copy it.
        var a = 4 + Math.Abs(w.Readout[0]);
        return new TanhRnnWeights(2, 3, 2, w.Recurrent, w.InputWeights, w.Bias, [0, 0, a, 0], w.ReadoutBias);
    }

    [Property(MaxTest = 25)]
    public bool RnnPolicy_steps_are_TanhRnn_steps_and_act_only_past_the_threshold(PositiveInt seed)
    {
        var w = Teacher(seed.Get);
        var session = IblSimulation.Play(IblTaskConfig.Paper, new RnnPolicy(w), 30, Rng.FromSeed(seed.Get), recordSteps: true);
        var h = new double[2];
        foreach (var s in session.Steps)
        {
            h = TanhRnn.Step(w, h, RnnPolicy.Inputs(s.Step.Input));
            var p = TanhRnn.Probabilities(w, h);
            if (Math.Abs(s.State[0] - h[0]) > 1e-15 || Math.Abs(s.State[1] - h[1]) > 1e-15) return false;
            Side? expected = s.Step.IsBlank ? null : p[1] > 0.9 ? Side.Right : p[0] > 0.9 ? Side.Left : null;
            if (s.Decision.Action != expected) return false;
        }
        return session.Trials.Length == 30;
    }

    [Property(MaxTest = 10)]
    public bool RADD_of_a_2_unit_teacher_plays_the_task_as_the_teacher_does(PositiveInt seed)
    {
        // Closed form recovers a tanh teacher exactly when z = h and κ = 1 (|h| < 1): A′ = W_rec, B′ = W_in,
        // c′ = b. With the teacher's readout, the distilled policy then makes the teacher's every action on
        // the same sessions: the closed-loop runner, the projection, the fit and the readout all agree.
        var w = Teacher(seed.Get);
        var task = IblTaskConfig.Paper;
        var teacher = IblSimulation.Play(task, new RnnPolicy(w), 300, Rng.FromSeed(seed.Get), recordSteps: true);
        var states = teacher.Steps.Select(s => s.State).ToImmutableArray();
        var inputs = teacher.Steps.Select(s => ImmutableArray.Create(RnnPolicy.Inputs(s.Step.Input))).ToImmutableArray();
        var model = Radd.Fit([new RaddSequence(states, inputs)], new RaddOptions(Scale: 1));
        for (int i = 0; i < 4; i++)
            if (Math.Abs(model.Recurrent[i] - w.Recurrent[i]) > 1e-8) return false;
        var policy = new IblRaddPolicy(model, [0.0, 0.0], w.Readout[2], w.ReadoutBias[1] - w.ReadoutBias[0]);
        var distilled = IblSimulation.Play(task, policy, 300, Rng.FromSeed(seed.Get));
        return teacher.Trials.Any(t => !t.TimedOut) && distilled.Trials.Select(t => (t.Action, t.ObservationSteps)).SequenceEqual(teacher.Trials.Select(t => (t.Action, t.ObservationSteps)));
    }

    [Fact]
    public void Psychometric_curve_counts_rightward_choices_per_block_and_signed_contrast()
    {
        // Hand-made trials: at +1 in a right block, 2 of 3 actions right; at −0.5 in a left block, 0 of 1; a time-out is left out.
        IblTrialRecord T(Side block, Side stimulus, double contrast, Side? action) =>
            new(new IblTrialInfo(0, 0, 0, block, stimulus, contrast), action, 3, double.NaN, 0.5, 0.5);
        var trials = new[]
        {
            T(Side.Right, Side.Right, 1, Side.Right), T(Side.Right, Side.Right, 1, Side.Right), T(Side.Right, Side.Right, 1, Side.Left),
            T(Side.Left, Side.Left, 0.5, Side.Left), T(Side.Left, Side.Left, 0.5, null),
        };
        var points = IblBehaviour.Psychometric(trials);
        Assert.Equal(2, points.Count);
        Assert.Equal(new PsychometricPoint(-0.5, Side.Left, 1, 0), points[0]);
        Assert.Equal(new PsychometricPoint(1, Side.Right, 3, 2 / 3.0), points[1]);
    }
}

