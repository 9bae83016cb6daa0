using HmmRnn.Analysis.Ibl;
using HmmRnn.Core;
using HmmRnn.Core.Ibl;
using HmmRnn.Host.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HmmRnn.Host.Tasks.Ibl;

/// <summary>
/// Training the tanh RNN on the IBL task (SPEC B2) for the shared <see cref="Trainer"/> loop. The task
/// is closed-loop — the network's action ends the trial and so changes the next input — so the
/// environments (Core's <see cref="IblEnvironment"/>, one per session) and the network step together,
/// all sessions in lockstep so that a step is one batched matrix product.
/// </summary>
/// <remarks>
/// Each epoch starts fresh sessions (drawn from the seed and the epoch) from h = 0, so a run resumed at
/// an epoch boundary repeats the uninterrupted one. Validation plays fixed sessions with Core's
/// <see cref="RnnPolicy"/> on the snapshot of the weights: accuracy with time-outs wrong, and its loss is 1 − that.
/// </remarks>
public sealed class IblTask : ITrainingTask
{
    private readonly IblTrainingConfig config;
    private readonly IblTaskConfig environment;
    private readonly IblRnnModel model;
    private readonly OptimizerHelper optimizer;
    private readonly Device device;
    private readonly TorchThreads threads;

    /// <summary>Seeds torch, builds the network and its optimiser; torch runs on one CPU thread while the task lives (<see cref="TorchThreads"/>).</summary>
    public IblTask(IblTrainingConfig config, Device device)
    {
        ArgumentNullException.ThrowIfNull(config);
        (this.config, this.device, environment) = (config, device, config.Environment);
        threads = TorchThreads.One(device);
        manual_seed(config.Seed);
        model = new IblRnnModel(config.Hidden);
        model.to(device);
        optimizer = config.Optimizer == IblOptimizer.Sgd
            ? optim.SGD(model.parameters(), config.LearningRate, momentum: config.Momentum)
            : optim.Adam(model.parameters(), lr: config.LearningRate);
    }

    /// <summary>The network.</summary>
    public IblRnnModel Network => model;

    /// <inheritdoc />
    public nn.Module Model => model;

    /// <inheritdoc />
    public OptimizerHelper Optimizer => optimizer;

    /// <inheritdoc />
    public int StepsPerEpoch => config.StepsPerEpoch;

    /// <inheritdoc />
    public double LearningRateScale
    {
        get => learningRateScale;
        set => OptimizerSteps.SetLearningRate(optimizer, config.LearningRate * (learningRateScale = value));
    }

    private double learningRateScale = 1;

    /// <inheritdoc />
    public ITrainingEpoch BeginEpoch(int epoch) => new Epoch(this, epoch);

    /// <inheritdoc />
    public Validation Validate() => Play(model.Snapshot(), environment, config.ValidationSessions, config.ValidationTrials, config.Seed);

    /// <summary>
    /// A network's validation: it plays fixed sessions (from the seed's validation stream) through Core's
    /// <see cref="RnnPolicy"/>; the loss is 1 − accuracy with time-outs wrong.
    /// </summary>
    public static Validation Play(Core.Rnn.TanhRnnWeights weights, IblTaskConfig environment, int sessions, int trials, long seed)
    {
        var played = IblSimulation.RunSessions(environment, new RnnPolicy(weights, environment.ActionThreshold), sessions, trials, ValidationStream(seed));
        var accuracy = Accuracy.Of(played);
        return new Validation(1 - accuracy.Value(TimeoutPolicy.CountAsWrong), new Dictionary<string, double>
        {
            ["accuracy"] = accuracy.Value(TimeoutPolicy.CountAsWrong),
            ["timeouts"] = accuracy.TimeoutRate,
        }) { LossName = "error_rate" };
    }

    /// <summary>The validation sessions' stream: fixed for a seed, apart from every training session.</summary>
    public static Rng ValidationStream(long seed) => Rng.FromSeed(seed).Substream(3);

    /// <summary>The stream of the sessions of training epoch <paramref name="epoch"/>.</summary>
    private static Rng EpochStream(long seed, int epoch) => Rng.FromSeed(seed).Substream(4).Substream(epoch);

    /// <inheritdoc />
    public void Dispose()
    {
        optimizer.Dispose();
        model.Dispose();
        threads.Dispose();
    }

    /// <summary>
    /// One epoch: with truncation, its sessions run on across steps (h carried, detached at each
    /// step); without, every step plays fresh whole sessions.
    /// </summary>
    private sealed class Epoch : ITrainingEpoch
    {
        private readonly IblTask task;
        private readonly Rng stream;
        private IblState[] sessions;
        private Tensor hidden;
        /// <summary>The last step was skipped (its loss not finite): its carried state may be what overflowed, so the next step starts fresh sessions from h = 0.</summary>
        private bool restart;
        /// <summary>Restarted sessions draw from substreams of their own (the step's index plus this), never a step's.</summary>
        private const long RestartStreams = 1L << 40;

        public Epoch(IblTask task, int epoch)
        {
            this.task = task;
            stream = EpochStream(task.config.Seed, epoch);
            (sessions, hidden) = Fresh(stream.Substream(0));
        }

        private (IblState[], Tensor) Fresh(Rng rng)
        {
            var c = task.config;
            var states = new IblState[c.Sessions];
            for (int i = 0; i < states.Length; i++) states[i] = IblEnvironment.Start(task.environment, rng.Substream(i));
            return (states, zeros([c.Sessions, c.Hidden], float64, task.device));
        }

        public double Step(int step)
        {
            var c = task.config;
            if ((c.Truncation == 0 && step > 0) || restart)
            {
                hidden.Dispose();
                (sessions, hidden) = Fresh(stream.Substream(restart ? RestartStreams + step : step));
                restart = false;
            }
            using var scope = NewDisposeScope();
            int B = c.Sessions;
            var active = new bool[B];
            Array.Fill(active, true);
            var terms = new List<Tensor>();
            long counted = 0;
            var h = hidden;
            var input = new double[B * 3];
            var target = new long[B];
            var mask = new double[B];
            for (int t = 0; c.Truncation == 0 ? active.Any(a => a) : t < c.Truncation; t++)
            {
                for (int i = 0; i < B; i++)
                {
                    var s = sessions[i].Current;
                    s.Input.CopyTo(input.AsSpan(IblInput.Width * i));
                    target[i] = s.Trial.StimulusSide == Side.Right ? 1 : 0;
                    var counts = active[i] && !s.IsBlank;
                    mask[i] = counts ? 1 : 0;
                    if (counts) counted++;
                }
                var x = tensor(input, [B, 3], float64, task.device);
                (h, var logp) = task.model.call(x, h);
                var picked = logp.gather(1, tensor(target, [B, 1], device: task.device)).squeeze(1);
                var perStep = task.config.Loss == IblLoss.Paper ? picked.neg() : picked.exp().neg();
                terms.Add((perStep * tensor(mask, [B], float64, task.device)).sum());
                var p = logp.detach().exp().cpu().data<double>().ToArray();
                var threshold = task.environment.ActionThreshold;
                for (int i = 0; i < B; i++)
                {
                    if (!active[i]) continue;
                    var s = sessions[i].Current;
                    var action = IblActionRule.Act(s.IsBlank, p[2 * i], p[2 * i + 1], threshold);
                    (_, sessions[i]) = IblEnvironment.Advance(sessions[i], action);
                    if (c.Truncation == 0 && sessions[i].Current.Trial.Block >= c.BlocksPerSession) active[i] = false;
                }
            }
            var loss = stack(terms).sum() / Math.Max(1, counted);
            var value = OptimizerSteps.Take(loss, task.optimizer, task.model.parameters(), c.GradClip);
            restart = !double.IsFinite(value);
            var next = h.detach().MoveToOuterDisposeScope();
            if (!ReferenceEquals(hidden, next)) hidden.Dispose();
            hidden = next;
            return value;
        }

        public void Dispose() => hidden.Dispose();
    }
}
