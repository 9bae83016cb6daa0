using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using System.Runtime.InteropServices;
using HmmRnn.Host.Output;

namespace HmmRnn.Host.Training;

/// <summary>
/// One training in a run folder, wired to its sinks (console progress, metrics.csv, TensorBoard) and to Ctrl+C / SIGTERM:
/// what the <c>train</c> commands and the experiment pipeline both run. Returns an <see cref="ExitCode"/>.
/// </summary>
public static class TrainingSession
{
    /// <summary>The refusal of a fresh training into a folder that holds a run.</summary>
    public static string AlreadyARun(string path) => $"--out: {path} already holds a run; pass --resume to continue it or choose another --out";

    /// <summary>The refusal of a resume where there is nothing to resume.</summary>
    public static string NothingToResume(string path) =>
        $"--resume: {path} has no {Trainer.LastCheckpoint}, nothing to resume; leave out --resume to start afresh (into an empty --out)";

    /// <summary>
    /// Trains any task in a run folder the caller holds (its <see cref="RunLock"/>): writes config.json, subscribes progress, the
    /// metrics log and (optionally) TensorBoard to the one training loop, and stops cleanly on Ctrl+C / SIGTERM (exit 130).
    /// Refused before anything is written (exit 2): a fresh run into a folder that holds one, a resume with nothing to resume
    /// or of another configuration, a damaged last checkpoint. A training that fails or diverges exits 1; a divergence is also
    /// returned (<c>Diverged</c>), since its best checkpoint holds finite weights of an earlier epoch that a caller may use.
    /// </summary>
    public static async Task<(int Code, TrainingFinished? Result, TrainingDivergedException? Diverged)> RunLocked(RunFolder folder, ITaskConfig config, bool resume, bool tensorboard,
        int checkpointEvery, CancellationToken token)
    {
        // Checked again under the lock: another process may have trained here since the command's own checks.
        if (!resume && File.Exists(folder.PathOf(Trainer.LastCheckpoint))) return (ExitCode.Refuse(AlreadyARun(folder.Path)), null, null);
        // A resume is checked before anything is written (config.json, the logs): the folder's run must be of this task and configuration.
        if (resume)
        {
            try
            {
                if (Trainer.ResumePoint(config, folder) is null) return (ExitCode.Refuse(NothingToResume(folder.Path)), null, null);
            }
            catch (ResumeRefusedException e) { return (ExitCode.Refuse($"--resume: {e.Reason}"), null, null); }
            catch (InvalidDataException e) { return (ExitCode.Refuse($"--resume: {e.Message}"), null, null); }
        }
        // The folder is ours (its lock is held): what a killed write left behind goes before this run writes anything.
        if (folder.RemoveLeftovers() is { Count: > 0 } leftovers)
            Console.Error.WriteLine($"removed {leftovers.Count} temporary file(s) left by an interrupted write: {string.Join(", ", leftovers)}");
        RunConfig.Write(folder, config);
        // Ctrl+C / SIGTERM: finish the current step, report, keep the last checkpoint; a second signal is not needed.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(token);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        var events = Trainer.Observe(config, folder, resume, stop.Token, checkpointEvery).Publish();
        using var log = new MetricsLog(folder, config.TaskMetric);
        using var tb = tensorboard ? new TensorBoardLog(folder) : null;
        using var s1 = events.Subscribe(new ConsoleProgress());
        using var s2 = events.Subscribe(log);
        using var s3 = tb is null ? null : events.Subscribe(tb);
        var finished = events.OfType<TrainingFinished>().LastOrDefaultAsync().ToTask();
        using var connection = events.Connect();
        TrainingFinished? result;
        try { result = await finished; }
        // ConsoleProgress has reported the TrainingFailed event.
        catch (TrainingDivergedException e) { return (ExitCode.Failure, null, e); }
        catch (Exception) { return (ExitCode.Failure, null, null); }
        if (result is { Cancelled: true })
        {
            Console.Error.WriteLine($"stopped: {folder.PathOf(Trainer.LastCheckpoint)} holds epoch {result.EpochsCompleted}; the same command with --resume continues");
            return (ExitCode.Interrupted, result, null);
        }
        return (result is null ? ExitCode.Failure : ExitCode.Success, result, null);
    }
}
