using HmmRnn.Core;
using HmmRnn.Core.Ibl;
using HmmRnn.Host.Output;
using HmmRnn.Host.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HmmRnn.Host.Tasks.Ibl;

/// <summary>
/// Output distillation (see <see cref="IblDistillConfig"/>): the teacher plays recorded sessions; the
/// student, fed the same inputs from h = 0, learns the teacher's action probabilities on every observation
/// step by minimising KL(teacher ‖ student). Back-propagation runs through each whole recorded session.
/// </summary>
public sealed class IblDistillTask : ITrainingTask
{
    private readonly IblDistillConfig config;
    private readonly IblTaskConfig environment;
    private readonly IblRnnModel student;
    private readonly OptimizerHelper optimizer;
    private readonly Tensor inputs, teacher, mask, entropy;
    private readonly double observed;
    private readonly TorchThreads threads;

    /// <summary>Loads the teacher, records its sessions, seeds torch and builds the student (one CPU thread while the task lives).</summary>
    /// <exception cref="InvalidDataException">the teacher folder is not an IBL run, or its checkpoint is damaged.</exception>
    public IblDistillTask(IblDistillConfig config, Device device)
    {
        ArgumentNullException.ThrowIfNull(config);
        this.config = config;
        if (!Directory.Exists(config.Teacher)) throw new InvalidDataException($"Teacher = {config.Teacher}: no such run folder");
        (environment, var weights, _, _) = IblAnalysisOutput.Load(RunFolder.Create(config.Teacher));

        int S = config.Sessions, T = config.Steps;
        var x = new double[T * S * 3];
        var p = new double[T * S * 2];
        var m = new double[T * S];
        var policy = new RnnPolicy(weights, environment.ActionThreshold);
        var stream = Rng.FromSeed(config.Seed).Substream(5);
        for (int s = 0; s < S; s++)
        {
            // Enough trials for T steps: a trial lasts at most BlankSteps + MaxObservationSteps steps, at least BlankSteps + 1.
            var steps = IblSimulation.Play(environment, policy, T / (environment.BlankSteps + 1) + 1, stream.Substream(s), recordSteps: true).Steps;
            for (int t = 0; t < T; t++)
            {
                var step = steps[t];
                int i = t * S + s;
                step.Step.Input.CopyTo(x.AsSpan(IblInput.Width * i));
                (p[2 * i], p[2 * i + 1]) = (1 - step.Decision.PosteriorRight, step.Decision.PosteriorRight);
                m[i] = step.Step.IsBlank ? 0 : 1;
            }
        }
        inputs = tensor(x, [T, S, 3], float64, device);
        teacher = tensor(p, [T, S, 2], float64, device);
        mask = tensor(m, [T, S], float64, device);
        observed = m.Sum();
        using (no_grad())
            entropy = (teacher * teacher.clamp_min(1e-300).log()).sum(-1).mul(mask).sum(); // Σ p log p: makes the loss a KL divergence
        threads = TorchThreads.One(device);
        manual_seed(config.Seed);
        student = new IblRnnModel(config.Hidden);
        student.to(device);
        optimizer = optim.Adam(student.parameters(), lr: config.LearningRate);
    }

    /// <inheritdoc />
    public nn.Module Model => student;

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
    public ITrainingEpoch BeginEpoch(int epoch) => new Epoch(this);

    /// <inheritdoc />
    public Validation Validate() => IblTask.Play(student.Snapshot(), environment, config.ValidationSessions, config.ValidationTrials, config.Seed);

    /// <inheritdoc />
    public void Dispose()
    {
        optimizer.Dispose();
        student.Dispose();
        foreach (var t in new[] { inputs, teacher, mask, entropy }) t.Dispose();
        threads.Dispose();
    }

    /// <summary>Every step of an epoch runs the same recorded sessions: the data are fixed.</summary>
    private sealed class Epoch(IblDistillTask task) : ITrainingEpoch
    {
        public double Step(int step)
        {
            using var scope = NewDisposeScope();
            var c = task.config;
            var h = zeros([c.Sessions, c.Hidden], float64, task.inputs.device);
            var crossEntropy = new List<Tensor>();
            for (int t = 0; t < c.Steps; t++)
            {
                (h, var logq) = task.student.call(task.inputs[t], h);
                crossEntropy.Add((task.teacher[t] * logq).sum(-1).mul(task.mask[t]).sum());
            }
            var loss = (task.entropy - stack(crossEntropy).sum()) / task.observed;
            return OptimizerSteps.Take(loss, task.optimizer, task.student.parameters(), clip: null);
        }

        public void Dispose() { }
    }
}
