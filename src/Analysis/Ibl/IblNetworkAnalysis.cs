using System.Collections.Immutable;
using HmmRnn.Analysis.Dynamics;
using HmmRnn.Analysis.Numerics;
using HmmRnn.Core;
using HmmRnn.Core.Ibl;
using HmmRnn.Core.Rnn;

namespace HmmRnn.Analysis.Ibl;

/// <summary>How much of the task <see cref="IblNetworkAnalysis.Run"/> plays, and the analyses' few knobs.</summary>
/// <param name="Sessions">Sessions for the behaviour (network, Bayesian agents, distilled model), each of <paramref name="TrialsPerSession"/> trials.</param>
/// <param name="TrialsPerSession">Trials per behaviour session.</param>
/// <param name="RecordedTrials">Trials of the one session whose every hidden state is kept for the representation, dynamics, RADD and pools.</param>
/// <param name="TrainFraction">The block classifiers' training share (paper 0.67; the rest tests).</param>
/// <param name="FlowGrid">Flow-field grid points per axis (reference 15).</param>
/// <param name="FixedPointStarts">Visited states used as starts of the fixed-point search, per input condition.</param>
/// <param name="MaxLag">RADD's error accumulation: lags 1 … this (paper 19).</param>
public sealed record IblAnalysisOptions(int Sessions = 20, int TrialsPerSession = 1000, int RecordedTrials = 4000, double TrainFraction = 0.67,
    int FlowGrid = 15, int FixedPointStarts = 48, int MaxLag = 19)
{
    /// <summary>The defaults: 20,000 trials of behaviour per agent, 4,000 recorded trials.</summary>
    public static IblAnalysisOptions Default { get; } = new();

    /// <summary>The first bad field, or null.</summary>
    public Violation? Problem()
    {
        if (Sessions < 1) return Violation.Of(nameof(Sessions), Sessions, "must be ≥ 1");
        if (TrialsPerSession < 1) return Violation.Of(nameof(TrialsPerSession), TrialsPerSession, "must be ≥ 1");
        if (RecordedTrials < 50) return Violation.Of(nameof(RecordedTrials), RecordedTrials, "must be ≥ 50");
        if (!(TrainFraction > 0 && TrainFraction < 1)) return Violation.Of(nameof(TrainFraction), TrainFraction, "must be in (0, 1)");
        if (FlowGrid < 2) return Violation.Of(nameof(FlowGrid), FlowGrid, "must be ≥ 2");
        if (FixedPointStarts < 1) return Violation.Of(nameof(FixedPointStarts), FixedPointStarts, "must be ≥ 1");
        if (MaxLag < 1) return Violation.Of(nameof(MaxLag), MaxLag, "must be ≥ 1");
        return Violation.AtMost(nameof(Sessions), Sessions, MaxTrials) ?? Violation.AtMost(nameof(TrialsPerSession), TrialsPerSession, MaxTrials / Sessions)
            ?? Violation.AtMost(nameof(RecordedTrials), RecordedTrials, MaxRecordedTrials) ?? Violation.AtMost(nameof(FlowGrid), FlowGrid, MaxFlowGrid)
            ?? Violation.AtMost(nameof(FixedPointStarts), FixedPointStarts, MaxRecordedTrials);
    }

    /// <summary>Memory bounds: ≤ 10,000,000 behaviour trials per agent (sessions × trials per session), ≤ 100,000 recorded trials or fixed-point starts, a flow grid ≤ 1,000 a side.</summary>
    public const int MaxTrials = 10_000_000, MaxRecordedTrials = 100_000, MaxFlowGrid = 1_000;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad field (<see cref="Problem"/>); returns this.</summary>
    public IblAnalysisOptions Validate() => Problem() is { } p ? throw p.ToException() : this;
}

/// <summary>Behaviour of the network beside the Bayesian agents and the exact observer (SPEC B4, Fig. 2–3).</summary>
/// <param name="Network">The network's summary; its observer accuracy is the exact observer's on the network's inputs and trial lengths.</param>
/// <param name="Agents">Bayesian agents on the same task and seed: the paper's actor (markov) and the reference code's.</param>
/// <param name="Distilled">The RADD-distilled 2-unit model playing the task.</param>
/// <param name="BlockChange">The network's accuracy by trials since a block change (all contrasts, zero contrast).</param>
public sealed record IblBehaviourSection(AgentSummary Network, IReadOnlyList<AgentSummary> Agents, AgentSummary Distilled,
    IReadOnlyList<BlockChangePoint> BlockChange);

/// <summary>The representation (SPEC B4, §4 of the paper).</summary>
/// <param name="States">Recorded hidden states (every step, blank ones too, as the reference).</param>
/// <param name="CumulativeVariance">Cumulative explained-variance fraction of the first ten PCs.</param>
/// <param name="TopTwoVariance">Variance explained by PC1 and PC2 (paper 88.7%).</param>
/// <param name="StimulusReadoutInPlane">‖projection of the stimulus readout onto the PC plane‖ / ‖readout‖ (paper 93.4%).</param>
/// <param name="BlockAccuracyFull">Logistic block-side classifier on the full state, held-out accuracy (paper 82.6%).</param>
/// <param name="BlockAccuracyPlane">The same on the PC1–PC2 coordinates (paper 82.5%).</param>
/// <param name="ReadoutAngleFull">Angle between the stimulus and block readouts, degrees (paper 73°).</param>
/// <param name="ReadoutAnglePlane">The same within the PC plane (paper 68°).</param>
/// <param name="StimulusVelocity">Per observation step, the change along the unit stimulus readout against d = R − L (paper slope 0.84).</param>
/// <param name="BlockVelocity">The same along the unit block readout (paper 0.18).</param>
/// <param name="StimulusFeedbackVelocity">On the step the feedback (±1) enters, the change along the stimulus readout against it.</param>
/// <param name="BlockFeedbackVelocity">The same along the block readout.</param>
/// <param name="BlockPosterior">At each trial's first step: the unit block readout's value against the exact observer's 2·P(b = right) − 1.</param>
public sealed record IblRepresentationSection(int States, ImmutableArray<double> CumulativeVariance, double TopTwoVariance, double StimulusReadoutInPlane,
    double BlockAccuracyFull, double BlockAccuracyPlane, double ReadoutAngleFull, double ReadoutAnglePlane,
    LinearFitResult StimulusVelocity, LinearFitResult BlockVelocity, LinearFitResult StimulusFeedbackVelocity, LinearFitResult BlockFeedbackVelocity,
    LinearFitResult BlockPosterior)
{
    /// <summary>
    /// The exact observer's block posterior P(b = right) at each trial's start, decoded from h as the HMM task decodes its
    /// beliefs (<see cref="HmmEmulation.BeliefDecoding.Score"/>: ridge, earlier trials fitted, later ones scored); the baseline is
    /// the previous trial's stimulus side, the one-trial memory a network without a block belief could still have.
    /// </summary>
    public HmmEmulation.DecodingScore? BlockBelief { get; init; }
}

/// <summary>RADD on the trained network (SPEC B4): the distilled parameters, their fit, and how the 2-unit model does.</summary>
/// <param name="Model">A′, B′, c′ and κ (projection rows: unit stimulus readout, unit block readout; on centred states).</param>
/// <param name="ReadoutScale">The distilled model's logit difference per unit of z_stimulus (fitted to the teacher's).</param>
/// <param name="ReadoutBias">Its intercept.</param>
/// <param name="ReadoutFit">That fit's quality.</param>
/// <param name="AccuracyDistilled">The distilled model's accuracy on the task, time-outs wrong (paper 86.87%).</param>
/// <param name="AccuracyNetwork">The network's (paper 85.50%).</param>
/// <param name="ErrorByLag">Mean ‖ẑ_{t+k} − z_{t+k}‖ when the distilled model runs k steps from the teacher's z_t on the teacher's inputs, k = 1 … MaxLag.</param>
/// <param name="ErrorScale">Mean ‖z_t − mean z‖: the size errors are measured against.</param>
public sealed record IblRaddSection(RaddModel Model, double ReadoutScale, double ReadoutBias, LinearFitResult ReadoutFit,
    double AccuracyDistilled, double AccuracyNetwork, ImmutableArray<double> ErrorByLag, double ErrorScale);

/// <summary>Unit clustering (SPEC B4, Fig. 9): the pools, the mean weights between them, and whether the paper's motif is there.</summary>
/// <param name="Clusters">The clustering.</param>
/// <param name="MeanWeights">Mean recurrent weight from pool b (column) to pool a (row).</param>
/// <param name="Largest">The two largest pools (their cluster labels), or fewer when there are fewer.</param>
/// <param name="PoolCorrelation">The correlation of the two largest pools' mean activities; NaN with fewer than two pools.</param>
/// <param name="TwoOpposedPools">The two largest pools are anti-correlated, self-exciting (positive mean weight within) and mutually inhibiting (negative between).</param>
public sealed record IblPoolsSection(UnitClusters Clusters, ImmutableArray<ImmutableArray<double>> MeanWeights, ImmutableArray<int> Largest,
    double PoolCorrelation, bool TwoOpposedPools);

/// <summary>The network's dynamics under one constant input (SPEC B4's six flow-field conditions).</summary>
/// <param name="Name">What the input stands for.</param>
/// <param name="Input">(L, R, feedback).</param>
/// <param name="Flow">One-step displacement on a grid of the PC1–PC2 plane, masked to the cells the recorded session visited.</param>
/// <param name="Points">Fixed and slow points found from visited states under this input.</param>
/// <param name="Projected">Each point's (PC1, PC2) coordinates, in the order of <c>Points.Points</c>.</param>
public sealed record IblCondition(string Name, ImmutableArray<double> Input, FlowFieldResult Flow, FixedPointResult Points,
    ImmutableArray<PlanePoint> Projected);

/// <summary>Everything <see cref="IblNetworkAnalysis.Run"/> measures, plus the data the figures are drawn from.</summary>
/// <param name="AccuracyTimeoutsWrong">The network's accuracy, time-outs wrong (as <c>ibl bayes</c>'s summary).</param>
/// <param name="Behaviour">Behaviour beside the Bayesian agents.</param>
/// <param name="Representation">PCA, readouts, classifiers, velocities.</param>
/// <param name="Radd">Distillation in closed form.</param>
/// <param name="Pools">Unit clustering.</param>
/// <param name="Dynamics">Flow fields and fixed points under the six input conditions.</param>
/// <param name="Pca">The PCA of the recorded states (its first two axes are the plane of the figures).</param>
/// <param name="StimulusReadout">The unit stimulus readout (right − left logit row), full space.</param>
/// <param name="BlockReadout">The unit block readout (the full-space classifier's weights).</param>
public sealed record IblNetworkReport(double AccuracyTimeoutsWrong, IblBehaviourSection Behaviour, IblRepresentationSection Representation,
    IblRaddSection Radd, IblPoolsSection Pools, IReadOnlyList<IblCondition> Dynamics, PcaResult Pca, ImmutableArray<double> StimulusReadout, ImmutableArray<double> BlockReadout)
{
    /// <summary>The recorded session's steps (for figures: trajectories, flow fields' visited region). Not serialised.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public ImmutableArray<IblStepRecord<ImmutableArray<double>>> Recorded { get; init; } = [];

    /// <summary>RADD's coordinates (z_stimulus, z_block) of a state, as the distillation projects it.</summary>
    public ImmutableArray<double> RaddCoordinates(ImmutableArray<double> h) => IblNetworkAnalysis.RaddCoordinates(h.AsSpan(), Pca.Mean, StimulusReadout, BlockReadout);

    /// <summary>The network's behaviour trials (for figures). Not serialised.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public ImmutableArray<IblTrialRecord> Trials { get; init; } = [];
}

/// <summary>
/// Opens up a tanh RNN trained on the IBL task (Schaeffer et al. 2020, §3–5; SPEC B4): its behaviour beside
/// the Bayesian agents, its representation (PCA, stimulus and block readouts, velocities), RADD in closed
/// form, and its unit pools. Pure: the network, the task and a seed in; a record out.
/// </summary>
public static class IblNetworkAnalysis
{
    /// <summary>The substream of the analysis's randomness behind the psychometric fits' bootstrap (the other stages use 0–4).</summary>
    private const long PsychometricStream = 9;

    /// <summary>Runs every analysis on <paramref name="weights"/> playing <paramref name="task"/>.</summary>
    /// <param name="weights">A tanh RNN with 3 inputs (left, right, feedback) and 2 outputs (left, right).</param>
    /// <param name="task">The task it plays.</param>
    /// <param name="rng">Every session's randomness.</param>
    /// <param name="options">Sizes; <see cref="IblAnalysisOptions.Default"/> when null.</param>
    /// <param name="progress">Told the name of each stage as it starts (for a caller's progress display).</param>
    public static IblNetworkReport Run(TanhRnnWeights weights, IblTaskConfig task, Rng rng, IblAnalysisOptions? options = null, Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(task);
        options = (options ?? IblAnalysisOptions.Default).Validate();
        task.Validate();
        var policy = new RnnPolicy(weights, task.ActionThreshold);

        progress?.Invoke("behaviour");
        var trials = IblSimulation.RunSessions(task, policy, options.Sessions, options.TrialsPerSession, rng.Substream(0));
        var agents = new[] { ("markov", BayesianAgent.Markov), ("reference", BayesianAgent.ReferenceCode) }
            .Select((a, i) => IblBehaviour.WithPsychometricFits(
                IblBehaviour.Summarise(a.Item1, IblSimulation.RunSessions(task, a.Item2, options.Sessions, options.TrialsPerSession, rng.Substream(0))),
                rng.Substream(PsychometricStream).Substream(i + 1)))
            .ToArray();
        var network = IblBehaviour.WithPsychometricFits(IblBehaviour.Summarise("network", trials), rng.Substream(PsychometricStream));

        progress?.Invoke("representation");
        var recorded = IblSimulation.Play(task, policy, options.RecordedTrials, rng.Substream(1), recordSteps: true).Steps;
        var states = recorded.Select(s => s.State).ToArray();
        var pca = Pca.Fit(states);
        var plane = pca.Components.Take(2).ToArray();
        var stimulus = Unit(StimulusDirection(weights));
        var (blockFull, blockPlaneModel, accFull, accPlane) = BlockClassifiers(recorded, pca, options.TrainFraction, rng.Substream(2));
        var block = Unit(blockFull.Weights.AsSpan());
        var stimulusInPlane = ImmutableArray.Create(plane.Select(c => Vectors.Dot(c.AsSpan(), stimulus.AsSpan())).ToArray());
        var representation = new IblRepresentationSection(states.Length,
            [.. Cumulative(pca.ExplainedFraction.Take(10))], pca.ExplainedFraction[0] + pca.ExplainedFraction[1],
            Math.Sqrt(Geometry.ShareInSubspace(stimulus.AsSpan(), plane)), accFull, accPlane,
            Geometry.AngleDegrees(stimulus.AsSpan(), block.AsSpan()), Geometry.AngleDegrees(stimulusInPlane.AsSpan(), blockPlaneModel.Weights.AsSpan()),
            Velocity(recorded, stimulus, feedback: false), Velocity(recorded, block, feedback: false),
            Velocity(recorded, stimulus, feedback: true), Velocity(recorded, block, feedback: true),
            BlockPosterior(recorded, block)) { BlockBelief = BlockBelief(recorded, options.TrainFraction, rng.Substream(5)) };

        progress?.Invoke("flow fields and fixed points");
        var dynamics = Conditions(weights, recorded, pca, options, rng.Substream(4));

        progress?.Invoke("RADD");
        var radd = Distil(weights, task, recorded, pca.Mean, stimulus, block, network.AccuracyTimeoutsWrong, options, rng.Substream(3), out var distilled);

        progress?.Invoke("pools");
        var pools = Pools(weights, states);

        return new IblNetworkReport(network.AccuracyTimeoutsWrong,
            new IblBehaviourSection(network, agents, distilled, IblBehaviour.AfterBlockChange(trials, 40)),
            representation, radd, pools, dynamics, pca, stimulus, block) { Recorded = recorded, Trials = trials };
    }

    /// <summary>
    /// The six input conditions of the paper's flow fields (Fig. 6; SPEC B4): strong left, weak both, strong
    /// right while waiting; then punishment, nothing, reward on a blank step.
    /// </summary>
    public static IReadOnlyList<(string Name, double[] Input)> FlowConditions { get; } =
    [
        ("left stimulus (1.2, 0.2, −0.05)", [1.2, 0.2, -0.05]), ("weak both (0.2, 0.2, −0.05)", [0.2, 0.2, -0.05]),
        ("right stimulus (0.2, 1.2, −0.05)", [0.2, 1.2, -0.05]), ("punishment (0, 0, −1)", [0, 0, -1]),
        ("no input (0, 0, 0)", [0, 0, 0]), ("reward (0, 0, +1)", [0, 0, 1]),
    ];

    private static IReadOnlyList<IblCondition> Conditions(TanhRnnWeights weights, IReadOnlyList<IblStepRecord<ImmutableArray<double>>> recorded,
        PcaResult pca, IblAnalysisOptions options, Rng rng)
    {
        var plane = StatePlane.FromPca(pca);
        var visited = recorded.Select(s => plane.Project(s.State.AsSpan())).ToArray();
        var along1 = GridAxis.Covering(visited.Select(p => p.Z1), options.FlowGrid);
        var along2 = GridAxis.Covering(visited.Select(p => p.Z2), options.FlowGrid);
        var starts = new double[options.FixedPointStarts][];
        for (int k = 0; k < starts.Length; k++)
        {
            (var i, rng) = rng.NextInt(recorded.Count);
            starts[k] = recorded[i].State.ToArray();
        }
        var conditions = new IblCondition[FlowConditions.Count];
        Parallel.For(0, conditions.Length, c =>
        {
            var (name, input) = FlowConditions[c];
            var flow = FlowField.MaskVisited(FlowField.Compute(weights, input, plane, along1, along2), visited);
            var points = TanhFixedPoints.Find(weights, input, starts);
            conditions[c] = new IblCondition(name, [.. input], flow, points, [.. points.Points.Select(p => plane.Project(p.State.AsSpan()))]);
        });
        return conditions;
    }

    /// <summary>RADD's coordinates of a state: z = P (h − mean), P's rows the unit stimulus and block readouts.</summary>
    public static ImmutableArray<double> RaddCoordinates(ReadOnlySpan<double> h, ImmutableArray<double> mean, ImmutableArray<double> stimulus, ImmutableArray<double> block)
    {
        if (h.Length != mean.Length || stimulus.Length != mean.Length || block.Length != mean.Length)
            throw new ArgumentException($"state of {h.Length} units, mean {mean.Length}, readouts {stimulus.Length} and {block.Length}", nameof(h));
        double a = 0, b = 0;
        for (int i = 0; i < h.Length; i++) { a += stimulus[i] * (h[i] - mean[i]); b += block[i] * (h[i] - mean[i]); }
        return [a, b];
    }

    /// <summary>The stimulus readout: the difference of the right and left rows of W_out (what the action's logit difference reads).</summary>
    public static double[] StimulusDirection(TanhRnnWeights w)
    {
        ArgumentNullException.ThrowIfNull(w);
        if (w.Outputs != 2) throw new ArgumentException($"has {w.Outputs} outputs, the IBL network 2", nameof(w));
        var d = new double[w.Hidden];
        for (int j = 0; j < d.Length; j++) d[j] = w.Readout[w.Hidden + j] - w.Readout[j];
        return d;
    }

    private static (LogisticModel Full, LogisticModel Plane, double AccuracyFull, double AccuracyPlane) BlockClassifiers(
        IReadOnlyList<IblStepRecord<ImmutableArray<double>>> recorded, PcaResult pca, double trainFraction, Rng rng)
    {
        int n = recorded.Count;
        var order = Enumerable.Range(0, n).ToArray();
        rng.Shuffle<int>(order);
        int train = (int)Math.Round(trainFraction * n);
        var full = recorded.Select(s => s.State.ToArray()).ToArray();
        var plane = recorded.Select(s => pca.Project(s.State).Take(2).ToArray()).ToArray();
        var y = recorded.Select(s => s.Step.Trial.BlockSide == Side.Right).ToArray();
        (LogisticModel, double) Fit(double[][] x)
        {
            var xTrain = order.Take(train).Select(i => x[i]).ToArray();
            var yTrain = order.Take(train).Select(i => y[i]).ToArray();
            var model = LogisticRegression.Fit(xTrain, yTrain);
            return (model, LogisticRegression.Accuracy(model, order.Skip(train).Select(i => x[i]).ToArray(), order.Skip(train).Select(i => y[i]).ToArray()));
        }
        var (mFull, aFull) = Fit(full);
        var (mPlane, aPlane) = Fit(plane);
        return (mFull, mPlane, aFull, aPlane);
    }

    /// <summary>
    /// Within-trial observation steps (feedback = false): Δ(r̂·h) against d = R − L. Feedback steps (true):
    /// Δ(r̂·h) on the step a ±1 feedback enters, against the feedback.
    /// </summary>
    private static LinearFitResult Velocity(IReadOnlyList<IblStepRecord<ImmutableArray<double>>> recorded, ImmutableArray<double> direction, bool feedback)
    {
        var x = new List<double>();
        var y = new List<double>();
        for (int t = 1; t < recorded.Count; t++)
        {
            var s = recorded[t].Step;
            bool take = feedback ? Math.Abs(s.Input.Feedback) == 1 : !s.IsBlank;
            if (!take) continue;
            x.Add(feedback ? s.Input.Feedback : s.Input.Right - s.Input.Left);
            y.Add(Vectors.Dot(direction.AsSpan(), recorded[t].State.AsSpan()) - Vectors.Dot(direction.AsSpan(), recorded[t - 1].State.AsSpan()));
        }
        return FitOrUndefined(x, y);
    }

    /// <summary>The line fit, or NaNs where the data cannot define a slope (e.g. a network that never acts sees only −1 feedback).</summary>
    private static LinearFitResult FitOrUndefined(IReadOnlyList<double> x, IReadOnlyList<double> y) =>
        x.Count >= 3 && x.Distinct().Skip(1).Any()
            ? LinearFit.Fit(x, y)
            : new LinearFitResult(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, x.Count);

    private static HmmEmulation.DecodingScore? BlockBelief(IReadOnlyList<IblStepRecord<ImmutableArray<double>>> recorded, double trainFraction, Rng rng)
    {
        var rows = new List<(double[] State, double[] Previous, double[] Belief)>();
        Side? previous = null;
        foreach (var s in recorded.Where(s => s.Step.StepInTrial == 0))
        {
            if (previous is { } side)
                rows.Add((s.State.ToArray(), side == Side.Right ? [0.0, 1.0] : [1.0, 0.0], [s.ObserverBlockPriorRight]));
            previous = s.Step.Trial.StimulusSide;
        }
        if (rows.Count < 10) return null;
        int train = Math.Clamp((int)Math.Round(rows.Count * trainFraction), 2, rows.Count - 2);
        IReadOnlyList<double[]>[] Split(Func<(double[], double[], double[]), double[]> pick) =>
            [rows.Take(train).Select(pick).ToList(), rows.Skip(train).Select(pick).ToList()];
        return HmmEmulation.BeliefDecoding.Score(Split(r => r.Item1), Split(r => r.Item2), Split(r => r.Item3), 1e-3, rng);
    }

    private static LinearFitResult BlockPosterior(IReadOnlyList<IblStepRecord<ImmutableArray<double>>> recorded, ImmutableArray<double> block)
    {
        var x = new List<double>();
        var y = new List<double>();
        foreach (var s in recorded.Where(s => s.Step.StepInTrial == 0))
        {
            x.Add(2 * s.ObserverBlockPriorRight - 1);
            y.Add(Vectors.Dot(block.AsSpan(), s.State.AsSpan()));
        }
        return FitOrUndefined(x, y);
    }

    private static IblRaddSection Distil(TanhRnnWeights weights, IblTaskConfig task, IReadOnlyList<IblStepRecord<ImmutableArray<double>>> recorded,
        ImmutableArray<double> mean, ImmutableArray<double> stimulus, ImmutableArray<double> block, double networkAccuracy,
        IblAnalysisOptions options, Rng rng, out AgentSummary distilled)
    {
        ImmutableArray<double> Project(ReadOnlySpan<double> h) => RaddCoordinates(h, mean, stimulus, block);
        var z = recorded.Select(s => Project(s.State.AsSpan())).ToImmutableArray();
        var inputs = recorded.Select(s => ImmutableArray.Create(s.Step.Input.ToArray())).ToImmutableArray();
        var model = Radd.Fit([new RaddSequence(z, inputs)]);

        // The readout: the teacher's logit difference against z_stimulus, in closed form.
        var difference = StimulusDirection(weights);
        var logitDifference = recorded.Select(s => Vectors.Dot(difference, s.State.AsSpan()) + weights.ReadoutBias[1] - weights.ReadoutBias[0]).ToArray();
        var readout = LinearFit.Fit(z.Select(v => v[0]).ToArray(), logitDifference);

        var policy = new IblRaddPolicy(model, Project(new double[weights.Hidden]), readout.Slope, readout.Intercept, task.ActionThreshold);
        distilled = IblBehaviour.WithPsychometricFits(
            IblBehaviour.Summarise("distilled (RADD)", IblSimulation.RunSessions(task, policy, options.Sessions, options.TrialsPerSession, rng)),
            rng.Substream(PsychometricStream));

        // Error accumulation: from every 10th step, k free steps on the teacher's inputs.
        var errors = new double[options.MaxLag];
        var counts = new int[options.MaxLag];
        for (int t = 0; t + 1 < z.Length; t += 10)
        {
            var zhat = z[t];
            for (int k = 1; k <= options.MaxLag && t + k < z.Length; k++)
            {
                zhat = Radd.Step(model, zhat, inputs[t + k]);
                errors[k - 1] += Vectors.Distance(zhat.AsSpan(), z[t + k].AsSpan());
                counts[k - 1]++;
            }
        }
        var zMean = new[] { z.Average(v => v[0]), z.Average(v => v[1]) };
        var scale = z.Average(v => Vectors.Distance(v.AsSpan(), zMean));
        return new IblRaddSection(model, readout.Slope, readout.Intercept, readout, distilled.AccuracyTimeoutsWrong, networkAccuracy,
            [.. errors.Select((e, k) => counts[k] > 0 ? e / counts[k] : double.NaN)], scale);
    }

    private static IblPoolsSection Pools(TanhRnnWeights weights, IReadOnlyList<ImmutableArray<double>> states)
    {
        var clusters = UnitClustering.Cluster(states);
        var means = UnitClustering.MeanByCluster(weights.Recurrent, clusters);
        var largest = Enumerable.Range(0, clusters.Count).OrderByDescending(c => clusters.Labels.Count(l => l == c)).ThenBy(c => c).Take(2).ToImmutableArray();
        double correlation = double.NaN;
        bool opposed = false;
        if (largest.Length == 2)
        {
            int p = largest[0], q = largest[1];
            var a = states.Select(h => MeanOf(h, clusters.Labels, p)).ToArray();
            var b = states.Select(h => MeanOf(h, clusters.Labels, q)).ToArray();
            correlation = MathNet.Numerics.Statistics.Correlation.Pearson(a, b);
            opposed = correlation < 0 && means[p][p] > 0 && means[q][q] > 0 && means[p][q] < 0 && means[q][p] < 0;
        }
        return new IblPoolsSection(clusters, means, largest, correlation, opposed);
    }

    private static double MeanOf(ImmutableArray<double> h, ImmutableArray<int> labels, int label)
    {
        double s = 0;
        int n = 0;
        for (int i = 0; i < h.Length; i++)
            if (labels[i] == label) { s += h[i]; n++; }
        return s / n;
    }

    private static IEnumerable<double> Cumulative(IEnumerable<double> values)
    {
        double s = 0;
        foreach (var v in values) yield return s += v;
    }

    private static ImmutableArray<double> Unit(ReadOnlySpan<double> v)
    {
        var n = Math.Sqrt(Vectors.Dot(v, v));
        if (!(n > 0)) throw new ArgumentException("a readout is zero", nameof(v));
        var u = new double[v.Length];
        for (int i = 0; i < u.Length; i++) u[i] = v[i] / n;
        return ImmutableArray.Create(u);
    }

}
