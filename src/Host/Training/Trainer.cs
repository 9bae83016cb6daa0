using System.Diagnostics;
using System.Reactive.Linq;
using HmmRnn.Host.Output;
using TorchSharp;
using static TorchSharp.torch;

namespace HmmRnn.Host.Training;

/// <summary>
/// The one training loop of every task: epochs of optimiser steps, validation after each epoch, the
/// best and the last checkpoint (and numbered ones on request), exact resume, cancellation between
/// steps, and a stream of <see cref="TrainingEvent"/>s. A task (<see cref="ITaskConfig"/>) brings its
/// model, loss, data and validation; <see cref="Observe"/> turns the run into an observable that sinks
/// (progress, logs, plots) subscribe to.
/// </summary>
/// <remarks>
/// Reproducibility: a task draws everything of an epoch from (seed, epoch) alone and the checkpoint
/// written after every epoch holds the model and the optimiser, so a run resumed from the last
/// checkpoint repeats the uninterrupted run bit for bit on the CPU.
/// </remarks>
public static class Trainer
{
    /// <summary>The file names inside a run folder.</summary>
    public const string LastCheckpoint = "checkpoints/last.ckpt", BestCheckpoint = "checkpoints/best.ckpt";

    /// <summary>The numbered checkpoint written after <paramref name="epoch"/> epochs (see <c>checkpointEvery</c>).</summary>
    public static string EpochCheckpoint(int epoch) => $"checkpoints/epoch-{epoch:D4}.ckpt";

    /// <summary>
    /// A run's checkpoint by name: "best" (the last when no epoch has finished), "last", or the number of an epoch
    /// kept by <c>checkpointEvery</c>.
    /// </summary>
    /// <exception cref="ValidationException">a name that is none of these (<see cref="CheckpointProblem"/>).</exception>
    /// <exception cref="FileNotFoundException">the run has no such checkpoint.</exception>
    public static string CheckpointPath(RunFolder folder, string which)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (CheckpointProblem(which) is { } problem) throw new ValidationException(problem);
        var name = which switch
        {
            "best" => File.Exists(folder.PathOf(BestCheckpoint)) ? BestCheckpoint : LastCheckpoint,
            "last" => LastCheckpoint,
            _ => EpochCheckpoint(int.Parse(which, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture)),
        };
        var path = folder.PathOf(name);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such checkpoint in this run", path);
        return path;
    }

    /// <summary>Why <paramref name="which"/> names no checkpoint of a run (field "Checkpoint"), or null: best, last, or an epoch number.</summary>
    public static Core.Violation? CheckpointProblem(string? which) =>
        which is "best" or "last" || int.TryParse(which, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _) ? null
            : Core.Violation.Of("Checkpoint", which, "must be best, last or an epoch number");

    /// <summary>
    /// What a resume of <paramref name="config"/> in <paramref name="folder"/> would continue from: the last checkpoint's
    /// metadata, or null when the folder has none. The one check of a resume, for the loop and for callers that
    /// must refuse before writing anything (the CLI opens its logs first).
    /// </summary>
    /// <exception cref="ResumeRefusedException">the checkpoint belongs to another task or another configuration.</exception>
    /// <exception cref="InvalidDataException">the checkpoint is damaged.</exception>
    public static CheckpointMeta? ResumePoint(ITaskConfig config, RunFolder folder)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(folder);
        var last = folder.PathOf(LastCheckpoint);
        if (!File.Exists(last)) return null;
        var meta = Checkpoint.ReadMetaOfWhole(last); // a file cut short is refused here, before the caller writes config.json or the logs
        var task = meta.Task ?? RunConfig.Untagged;
        if (task != config.Task)
            throw new ResumeRefusedException($"{folder.Path} is a run of the {task} task, not of the {config.Task} task");
        if (meta.ConfigHash != config.Hash())
            throw new ResumeRefusedException($"{last} was written by a run with another configuration (hash {meta.ConfigHash}, this run {config.Hash()}); resume with the same options");
        return meta;
    }

    /// <summary>
    /// How many steps in a row may have a loss that is not finite before the run is called diverged: 10, or one epoch's steps
    /// when an epoch has fewer. Each such step changes nothing (<see cref="OptimizerSteps.Take"/>); a single overflowing batch
    /// (linear2's 200-step rollouts at seeds 1 and 10, epochs 16 and 11, 2026-12-05) no longer ends a run, while a network
    /// whose every batch overflows still stops within an epoch.
    /// </summary>
    public static int SkipLimit(int stepsPerEpoch) => Math.Clamp(stepsPerEpoch, 1, 10);

    /// <summary>
    /// How many times a run may roll back before a run of non-finite steps ends it: each time the skip limit
    /// (<see cref="SkipLimit"/>) is reached the loop reloads the best checkpoint (weights and optimiser) and halves the learning
    /// rate (<see cref="ITrainingTask.LearningRateScale"/>), so the third rollback leaves the schedule's rate × 1/8.
    /// </summary>
    /// <remarks>
    /// Why: linear2's quick-preset training (seeds 1 and 2, 2026-12-05) reached weights at which every batch's 200-step rollout
    /// overflowed float32 (epochs 20 and 21); a skipped step changes nothing, so such a run can never recover on its own, and the
    /// weights of the epoch before were already expanding (peak-norm ratio 1.4·10⁶). The best checkpoint is the last network the
    /// validation found sound.
    /// </remarks>
    public const int MaxRollbacks = 3;

    /// <summary>The events of one run, produced as the caller enumerates.</summary>
    /// <param name="config">The run.</param>
    /// <param name="folder">Where checkpoints go.</param>
    /// <param name="resume">Continue from the folder's last checkpoint.</param>
    /// <param name="cancellation">Stops the run after the current step.</param>
    /// <param name="checkpointEvery">Also keep a numbered checkpoint every this many epochs (0: none).</param>
    public static IEnumerable<TrainingEvent> Run(ITaskConfig config, RunFolder folder, bool resume = false,
        CancellationToken cancellation = default, int checkpointEvery = 0)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(folder);
        if (checkpointEvery < 0) throw new ArgumentOutOfRangeException(nameof(checkpointEvery), checkpointEvery, "must be ≥ 0");
        config.Check();
        var clock = Stopwatch.StartNew();
        var device = Devices.Select(config.Device);

        using var task = config.Create(device);
        var hash = config.Hash();
        int startEpoch = 0, bestEpoch = 0, rollbacks = 0;
        double bestLoss = double.PositiveInfinity;
        var kernels = MklVendorCheck.Kernels(device.type);
        string? warning = null;
        if (resume && ResumePoint(config, folder) is { } meta)
        {
            Checkpoint.Load(folder.PathOf(LastCheckpoint), task.Model, task.Optimizer);
            (startEpoch, bestEpoch, bestLoss, rollbacks) = (meta.Epoch, meta.BestEpoch, meta.BestValidationLoss, meta.Rollbacks);
            task.LearningRateScale = meta.LearningRateScale;
            if (meta.MatrixKernels is { } before && before != kernels)
                warning = $"the run so far used matrix kernels '{before}', this process '{kernels}': it goes on, but not bit for bit as an " +
                          "uninterrupted run would" + (before.StartsWith("mkl-", StringComparison.Ordinal) && kernels.StartsWith("mkl-", StringComparison.Ordinal)
                              ? $" (on one machine, {MklVendorCheck.Variable} chooses)" : "");
        }
        int stepsPerEpoch = task.StepsPerEpoch;
        yield return new TrainingStarted(clock.Elapsed, config, task.Model.parameters().Sum(p => p.numel()), startEpoch, stepsPerEpoch, device.ToString()) { Warning = warning };
        if (startEpoch == 0)
            yield return Save(LastCheckpoint, 0, double.NaN, false);

        bool cancelled = false;
        int epoch = startEpoch;
        int skippedInARow = 0, skipLimit = SkipLimit(stepsPerEpoch);
        for (; epoch < config.Epochs && !cancelled; epoch++)
        {
            double lossSum = 0;
            int steps = 0, skipped = 0;
            using (var current = task.BeginEpoch(epoch))
            {
                for (int step = 0; step < stepsPerEpoch; step++)
                {
                    if (cancellation.IsCancellationRequested) { cancelled = true; break; }
                    var loss = NoCollections.Run(() => current.Step(step));
                    if (!double.IsFinite(loss))
                    {
                        // The task took no update (OptimizerSteps.Take): one overflowing batch is skipped; a run of them sends the
                        // run back to its best checkpoint at half the learning rate, or ends it after MaxRollbacks of those.
                        skipped++;
                        if (++skippedInARow < skipLimit) continue;
                        var what = $"the training loss of step {step + 1} is {loss}" +
                                   (skipLimit > 1 ? $" ({skippedInARow} steps in a row not finite, none applied)" : "");
                        if (rollbacks >= MaxRollbacks || bestEpoch == 0)
                            throw Diverged(epoch + 1, what + (rollbacks > 0 ? $", after {rollbacks} rollback{(rollbacks == 1 ? "" : "s")} to the best checkpoint" : ""));
                        Checkpoint.Load(folder.PathOf(BestCheckpoint), task.Model, task.Optimizer);
                        task.LearningRateScale /= 2;
                        rollbacks++;
                        skippedInARow = 0;
                        yield return new RolledBack(clock.Elapsed, epoch + 1, step + 1, what, bestEpoch, task.LearningRateScale, rollbacks);
                        break; // the rest of this epoch's batches are left; the next epoch starts from the best weights
                    }
                    skippedInARow = 0;
                    lossSum += loss;
                    steps++;
                    if ((step + 1) % config.LogEvery == 0 || step == stepsPerEpoch - 1)
                        yield return new BatchCompleted(clock.Elapsed, epoch + 1, epoch * stepsPerEpoch + step + 1, loss);
                }
            }
            if (cancelled) break;
            // Before anything of this epoch is saved: a checkpoint never holds weights that are not finite.
            if (Checkpoint.NonFiniteParameter(task.Model) is { } parameter) throw Diverged(epoch + 1, $"the weights are not finite ({parameter})");
            var validation = NoCollections.Run(task.Validate);
            if (double.IsNaN(validation.Score) || double.IsNaN(validation.Loss))
                throw Diverged(epoch + 1, $"the validation {(double.IsNaN(validation.Loss) ? "loss" : "score")} is NaN");
            // A score of +∞ is a legitimate verdict on a bad network (e.g. 'faithful' on an unbounded one), but never the best.
            var isBest = double.IsFinite(validation.Score) && validation.Score < bestLoss;
            if (isBest) (bestLoss, bestEpoch) = (validation.Score, epoch + 1);
            yield return new EpochCompleted(clock.Elapsed, epoch + 1, steps > 0 ? lossSum / steps : double.NaN, validation.Loss, isBest, bestLoss, bestEpoch,
                Environment.WorkingSet) { Metrics = validation.Metrics, ValidationLossName = validation.LossName, SkippedSteps = skipped };
            if (isBest) yield return Save(BestCheckpoint, epoch + 1, validation.Score, true);
            if (checkpointEvery > 0 && (epoch + 1) % checkpointEvery == 0) yield return Save(EpochCheckpoint(epoch + 1), epoch + 1, validation.Score, false);
            yield return Save(LastCheckpoint, epoch + 1, validation.Score, false);
        }
        yield return new TrainingFinished(clock.Elapsed, epoch, bestEpoch, bestLoss, cancelled);

        TrainingDivergedException Diverged(int at, string what) => new(at, what, bestEpoch, at - 1);

        CheckpointSaved Save(string name, int completed, double validation, bool best)
        {
            var meta = new CheckpointMeta(completed, hash, config.Seed, bestEpoch, bestLoss, validation,
                typeof(Trainer).Assembly.GetName().Version?.ToString() ?? "?", typeof(torch).Assembly.GetName().Version?.ToString() ?? "?",
                __version__, DateTimeOffset.UtcNow) { Task = config.Task, LearningRateScale = task.LearningRateScale, Rollbacks = rollbacks, MatrixKernels = kernels };
            return new CheckpointSaved(clock.Elapsed, completed, Checkpoint.Save(folder, name, meta, task.Model, task.Optimizer), best);
        }
    }

    /// <summary>
    /// The run as a cold observable: each subscription trains once, on a worker thread; disposing the
    /// subscription cancels after the current step. Errors arrive as <see cref="TrainingFailed"/>, then OnError.
    /// </summary>
    /// <param name="config">The run.</param>
    /// <param name="folder">Where checkpoints go.</param>
    /// <param name="resume">Continue from the folder's last checkpoint.</param>
    /// <param name="stop">Also stops the run after the current step (e.g. on Ctrl+C), still emitting <see cref="TrainingFinished"/>.</param>
    /// <param name="checkpointEvery">Also keep a numbered checkpoint every this many epochs (0: none).</param>
    public static IObservable<TrainingEvent> Observe(ITaskConfig config, RunFolder folder, bool resume = false, CancellationToken stop = default,
        int checkpointEvery = 0) =>
        Observable.Create<TrainingEvent>((observer, token) => Task.Run(() =>
        {
            var clock = Stopwatch.StartNew();
            using var either = CancellationTokenSource.CreateLinkedTokenSource(token, stop);
            try
            {
                foreach (var e in Run(config, folder, resume, either.Token, checkpointEvery)) observer.OnNext(e);
                observer.OnCompleted();
            }
            catch (Exception ex)
            {
                // libtorch appends its C++ stack to the message: the first line is the error.
                observer.OnNext(new TrainingFailed(clock.Elapsed, ex.Message.Split('\n')[0].Trim()) { Detail = ex.ToString() });
                observer.OnError(ex);
            }
        }, CancellationToken.None));
}

/// <summary>
/// A resume refused because the folder's run is of another task or configuration (<see cref="Trainer.ResumePoint"/>): the
/// caller decides by this type (the command line names --resume, an experiment starts the point afresh), never by the message.
/// </summary>
public sealed class ResumeRefusedException : InvalidOperationException
{
    /// <summary>A refusal for <paramref name="reason"/>; the message is "resume: reason".</summary>
    public ResumeRefusedException(string reason) : base($"resume: {reason}") => Reason = reason;

    /// <summary>Why, without the "resume: " of the message.</summary>
    public string Reason { get; }
}
