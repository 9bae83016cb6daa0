using System.Globalization;
using System.Text;
using System.Text.Json;
using HmmRnn.Host.Output;

namespace HmmRnn.Host.Training;

/// <summary>
/// Progress on the console (standard error): a line per epoch, the last batch's loss in between. Times count from this
/// process's start (a resumed run's too), so ms/step divides by the steps this process took.
/// </summary>
public sealed class ConsoleProgress : IObserver<TrainingEvent>
{
    private readonly TextWriter _out;
    private int _epochs, _stepsPerEpoch, _startEpoch;

    /// <summary>Writes to <paramref name="output"/> (standard error by default).</summary>
    public ConsoleProgress(TextWriter? output = null) => _out = output ?? Console.Error;

    /// <inheritdoc />
    public void OnNext(TrainingEvent e)
    {
        static string F(double x) => x.ToString("F4", CultureInfo.InvariantCulture);
        switch (e)
        {
            case TrainingStarted s:
                (_epochs, _stepsPerEpoch, _startEpoch) = (s.Config.Epochs, s.StepsPerEpoch, s.StartEpoch);
                _out.WriteLine($"training {s.Config.Describe()}; {s.Parameters:N0} parameters, {s.StepsPerEpoch} steps/epoch, device {s.Device}" +
                               (s.StartEpoch > 0 ? $", resuming after epoch {s.StartEpoch}" : ""));
                if (s.Warning is { } warning) _out.WriteLine("warning: " + warning);
                break;
            case BatchCompleted b when !Console.IsErrorRedirected:
                _out.Write($"\r  epoch {b.Epoch}/{_epochs} step {b.Step} loss {F(b.Loss)}   ");
                break;
            case EpochCompleted ep:
                if (!Console.IsErrorRedirected) _out.Write('\r');
                _out.WriteLine($"epoch {ep.Epoch,4}/{_epochs}  train {F(ep.TrainLoss)}  validation {F(ep.ValidationLoss)}{(ep.IsBest ? " *" : "  ")}  " +
                               string.Concat(ep.Metrics.Select(m => $"{m.Key} {F(m.Value)}  ")) +
                               $"{ep.Elapsed.TotalSeconds,7:F1} s  ({ep.Elapsed.TotalMilliseconds / Math.Max(1, (ep.Epoch - _startEpoch) * _stepsPerEpoch):F0} ms/step)" +
                               (ep.SkippedSteps > 0 ? $"  {ep.SkippedSteps} step{(ep.SkippedSteps == 1 ? "" : "s")} skipped (loss or gradient not finite)" : ""));
                break;
            case RolledBack r:
                if (!Console.IsErrorRedirected) _out.Write('\r');
                _out.WriteLine($"epoch {r.Epoch,4}/{_epochs}  {r.Reason}: back to epoch {r.ToEpoch}'s weights and optimiser (the best checkpoint), " +
                               $"learning rate × {r.LearningRateScale.ToString("G4", CultureInfo.InvariantCulture)} (rollback {r.Count} of {Trainer.MaxRollbacks})");
                break;
            case TrainingFinished f:
                _out.WriteLine($"{(f.Cancelled ? "cancelled" : "finished")} after {f.EpochsCompleted} epochs in {f.Elapsed.TotalSeconds:F1} s; " +
                               $"best validation score {F(f.BestScore)} at epoch {f.BestEpoch}");
                break;
            case TrainingFailed x:
                _out.WriteLine($"training failed: {x.Error}");
                break;
        }
    }

    /// <inheritdoc />
    public void OnError(Exception error) { }

    /// <inheritdoc />
    public void OnCompleted() { }
}

/// <summary>One epoch row of metrics.csv.</summary>
public sealed record EpochRow(int Epoch, double TrainLoss, double ValidationLoss, bool IsBest, double ElapsedSeconds, double ResidentMegabytes);

/// <summary>
/// metrics.csv (one row per epoch and per logged batch) and events.jsonl (every event), appended and
/// flushed line by line so a killed run keeps its log. <see cref="ReadEpochs"/> is the one reader of
/// the format written here.
/// </summary>
public sealed class MetricsLog : IObserver<TrainingEvent>, IDisposable
{
    /// <summary>The files' names inside a run folder.</summary>
    public const string CsvName = "metrics.csv", EventsName = "events.jsonl";

    /// <summary>The columns every metrics.csv has; a run's task metric (e.g. transition_error, accuracy) follows as a ninth.</summary>
    private const string Header = "kind,epoch,step,train_loss,validation_loss,is_best,elapsed_s,resident_mb";
    private readonly StreamWriter _csv, _events;
    /// <summary>The task metric written in the ninth column; null for a file begun without it (a run resumed from before it existed).</summary>
    private readonly string? _taskMetric;

    /// <summary>
    /// The epoch rows of a run's metrics.csv, in file order (a resumed run repeats the epochs after its
    /// checkpoint: the last row of each epoch wins). Empty when there is no file.
    /// </summary>
    /// <exception cref="InvalidDataException">the header is not this format's, or a row cannot be read; the message names file and line.</exception>
    public static IReadOnlyList<EpochRow> ReadEpochs(RunFolder folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var path = folder.PathOf(CsvName);
        if (!File.Exists(path)) return [];
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0) return [];
        if (lines[0] != Header && !(lines[0].StartsWith(Header + ",", StringComparison.Ordinal) && lines[0].Count(c => c == ',') == 8))
            throw new InvalidDataException($"{path}: header '{lines[0]}', expected '{Header}' and at most one metric column");
        var rows = new SortedDictionary<int, EpochRow>();
        for (int i = 1; i < lines.Length; i++)
        {
            var c = lines[i].Split(',');
            if (c[0] != "epoch") continue;
            try
            {
                static double D(string x) => double.Parse(x, NumberStyles.Float, CultureInfo.InvariantCulture);
                var row = new EpochRow(int.Parse(c[1], CultureInfo.InvariantCulture), D(c[3]), D(c[4]), c[5] == "1", D(c[6]), D(c[7]));
                rows[row.Epoch] = row;
            }
            catch (Exception e) when (e is FormatException or IndexOutOfRangeException or OverflowException)
            {
                throw new InvalidDataException($"{path}, line {i + 1}: cannot read '{lines[i]}'", e);
            }
        }
        return [.. rows.Values];
    }

    /// <summary>
    /// Opens (appending: a resumed run continues its log) the two files in <paramref name="folder"/>; epoch rows carry the
    /// validation metric <paramref name="taskMetric"/> (<see cref="EpochCompleted.Metrics"/>; empty when an epoch lacks it) in a
    /// ninth column of that name, unless the file was begun without one.
    /// </summary>
    public MetricsLog(RunFolder folder, string? taskMetric = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (taskMetric is not null && (taskMetric.Length == 0 || taskMetric.Any(c => c is ',' or '"' or '\n' or '\r')))
            throw new ArgumentException($"'{taskMetric}' is not a CSV column name", nameof(taskMetric));
        var csvPath = folder.PathOf(CsvName);
        DropPartialLine(csvPath);
        DropPartialLine(folder.PathOf(EventsName));
        var fresh = !File.Exists(csvPath) || new FileInfo(csvPath).Length == 0;
        _taskMetric = fresh ? taskMetric : ExistingMetric(csvPath);
        _csv = new StreamWriter(csvPath, append: true, new UTF8Encoding(false)) { AutoFlush = true };
        if (fresh) _csv.WriteLine(_taskMetric is null ? Header : $"{Header},{_taskMetric}");
        _events = new StreamWriter(folder.PathOf(EventsName), append: true, new UTF8Encoding(false)) { AutoFlush = true };
    }

    /// <summary>The metric column of an existing file's header (null: none).</summary>
    private static string? ExistingMetric(string csvPath)
    {
        using var reader = new StreamReader(csvPath);
        var header = reader.ReadLine() ?? "";
        return header.StartsWith(Header + ",", StringComparison.Ordinal) ? header[(Header.Length + 1)..] : null;
    }

    /// <summary>A process killed while appending can leave half a line: cut the file back to its last whole line before appending.</summary>
    private static void DropPartialLine(string path)
    {
        if (!File.Exists(path)) return;
        using var f = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        var length = f.Length;
        var end = length;
        var one = new byte[1];
        while (end > 0)
        {
            f.Position = end - 1;
            f.ReadExactly(one);
            if (one[0] == (byte)'\n') break;
            end--;
        }
        if (end != length) f.SetLength(end);
    }

    /// <inheritdoc />
    public void OnNext(TrainingEvent e)
    {
        _events.WriteLine(JsonSerializer.Serialize(new { type = e.GetType().Name, @event = (object)e }, Compact));
        var line = e switch
        {
            BatchCompleted b => string.Create(CultureInfo.InvariantCulture, $"batch,{b.Epoch},{b.Step},{b.Loss:R},,,{b.Elapsed.TotalSeconds:F3}"),
            EpochCompleted ep => string.Create(CultureInfo.InvariantCulture,
                $"epoch,{ep.Epoch},,{ep.TrainLoss:R},{ep.ValidationLoss:R},{(ep.IsBest ? 1 : 0)},{ep.Elapsed.TotalSeconds:F3},{ep.ResidentBytes / 1048576.0:F1}") + MetricCell(ep),
            _ => null,
        };
        if (line is not null) _csv.WriteLine(line);
    }

    /// <inheritdoc />
    public void OnError(Exception error) { }

    /// <inheritdoc />
    public void OnCompleted() { }

    /// <inheritdoc />
    public void Dispose()
    {
        _csv.Dispose();
        _events.Dispose();
    }

    private string MetricCell(EpochCompleted ep) => _taskMetric is null ? "" :
        ep.Metrics.TryGetValue(_taskMetric, out var value) ? string.Create(CultureInfo.InvariantCulture, $",{value:R}") : ",";

    private static readonly JsonSerializerOptions Compact = new(RunFolder.Json) { WriteIndented = false };
}

/// <summary>
/// TensorBoard scalars (<see cref="TensorBoardEventFile"/>), stamped with Unix seconds that only move forward (the clock at
/// subscription plus a stopwatch): <c>train/loss_batch</c> per logged step; per epoch <c>train/loss</c>, the validation loss
/// under the task's own name (<c>validation/loss</c>, or e.g. <c>validation/error_rate</c> for IBL's 1 − accuracy), each of the
/// task's validation metrics as <c>validation/&lt;name&gt;</c> (the transition error, IBL accuracy), and <c>memory/resident_mb</c>.
/// Epoch scalars are indexed by epoch, batch scalars by the step counted over the whole run.
/// </summary>
public sealed class TensorBoardLog : IObserver<TrainingEvent>, IDisposable
{
    private readonly TensorBoardEventFile _file;
    private readonly double _start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();

    /// <summary>Writes an event file under <paramref name="folder"/>/tensorboard.</summary>
    public TensorBoardLog(RunFolder folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        _file = new TensorBoardEventFile(folder.PathOf("tensorboard"), _start);
    }

    /// <summary>The event file written.</summary>
    public string Path => _file.Path;

    /// <inheritdoc />
    public void OnNext(TrainingEvent e)
    {
        var now = _start + _clock.Elapsed.TotalSeconds;
        switch (e)
        {
            case BatchCompleted b:
                _file.Scalar("train/loss_batch", b.Loss, b.Step, now);
                break;
            case EpochCompleted ep:
                _file.Scalar("train/loss", ep.TrainLoss, ep.Epoch, now);
                _file.Scalar($"validation/{ep.ValidationLossName}", ep.ValidationLoss, ep.Epoch, now);
                foreach (var (name, value) in ep.Metrics.OrderBy(m => m.Key, StringComparer.Ordinal))
                    _file.Scalar($"validation/{name}", value, ep.Epoch, now);
                _file.Scalar("memory/resident_mb", ep.ResidentBytes / 1048576.0, ep.Epoch, now);
                break;
        }
    }

    /// <inheritdoc />
    public void OnError(Exception error) { }

    /// <inheritdoc />
    public void OnCompleted() { }

    /// <inheritdoc />
    public void Dispose() => _file.Dispose();
}
