using System.Text.Json;
using HmmRnn.Host.Output;
using HmmRnn.Host.Tasks.Hmm;
using HmmRnn.Host.Training;

namespace HmmRnn.Host.Tests;

/// <summary>The file sinks: what they write is what their readers (and JSON parsers) get back.</summary>
[Collection("torch")]
public class SinkTests : TempFolderTest
{
    private RunFolder Folder(string name) => RunFolder.Create(Path.Combine(Root, name));

    private static EpochCompleted Epoch(int epoch, double train, double validation, bool best, double seconds, long bytes) =>
        new(TimeSpan.FromSeconds(seconds), epoch, train, validation, best, validation, epoch, bytes);

    [Fact]
    public void Console_progress_of_a_resumed_run_divides_its_time_by_the_steps_it_took()
    {
        // Resumed after epoch 30, 3 steps an epoch: epoch 32 after 12 s of this process is 6 steps, 2000 ms/step (dividing
        // by all 32 epochs' steps, as it once did, printed 125).
        var text = new StringWriter();
        var progress = new ConsoleProgress(text);
        var config = HmmTrainingConfig.Preset("paper", "linear3");
        progress.OnNext(new TrainingStarted(TimeSpan.Zero, config, 37_950, StartEpoch: 30, StepsPerEpoch: 3, "cpu"));
        progress.OnNext(Epoch(32, 6.6, 6.5, false, 12, 0));
        Assert.Contains("(2000 ms/step)", text.ToString());
    }

    [Fact]
    public void Epochs_written_through_the_metrics_log_read_back_with_their_values()
    {
        var folder = Folder("roundtrip");
        // Losses are written round-trip ("R"); elapsed seconds with 3 decimals and memory in MB with 1, so
        // these are chosen exact at that precision (1.25 s, 300 MiB = 314,572,800 bytes), and one is not (rounded).
        var epochs = new[]
        {
            Epoch(1, 1.0 / 3, 0.1 + 0.2, true, 1.25, 314_572_800),
            Epoch(2, 2.718281828459045e-7, 123456.789, false, 2.5, 1_048_576),
            Epoch(3, double.Epsilon, 0.3, true, 3.14159, 5_000_000),
        };
        using (var log = new MetricsLog(folder))
        {
            log.OnNext(new BatchCompleted(TimeSpan.FromSeconds(0.5), 1, 1, 0.9));
            foreach (var e in epochs) log.OnNext(e);
        }
        var rows = MetricsLog.ReadEpochs(folder);
        Assert.Equal(3, rows.Count);
        for (int i = 0; i < 3; i++)
        {
            var e = epochs[i];
            Assert.Equal(new EpochRow(e.Epoch, e.TrainLoss, e.ValidationLoss, e.IsBest, Math.Round(e.Elapsed.TotalSeconds, 3),
                Math.Round(e.ResidentBytes / 1048576.0, 1)), rows[i]);
        }
        Assert.Equal(1.25, rows[0].ElapsedSeconds);
        Assert.Equal(300.0, rows[0].ResidentMegabytes);
    }

    [Fact]
    public void A_resumed_run_appends_and_its_repeated_epoch_keeps_the_last_row()
    {
        var folder = Folder("resumed");
        using (var first = new MetricsLog(folder))
            for (int e = 1; e <= 3; e++) first.OnNext(Epoch(e, 1.0 / e, 2.0 / e, e == 3, e, 0));
        // Killed after epoch 3, resumed from the checkpoint of epoch 2: epoch 3 is run again with other numbers.
        using (var resumed = new MetricsLog(folder))
            for (int e = 3; e <= 4; e++) resumed.OnNext(Epoch(e, 10.0 + e, 20.0 + e, false, 100 + e, 0));
        var rows = MetricsLog.ReadEpochs(folder);
        Assert.Equal([1, 2, 3, 4], rows.Select(r => r.Epoch));
        Assert.Equal(new EpochRow(3, 13, 23, false, 103, 0), rows[2]);
        Assert.Equal(new EpochRow(2, 0.5, 1, false, 2, 0), rows[1]);
        var lines = File.ReadAllLines(folder.PathOf(MetricsLog.CsvName));
        Assert.Single(lines, l => l.StartsWith("kind,", StringComparison.Ordinal)); // one header, not one per run
        Assert.Equal(6, lines.Length);
    }

    [Fact]
    public void A_line_cut_short_by_a_kill_is_dropped_when_the_run_resumes()
    {
        // Bug caught: appending after a half-written row glued two rows into one unreadable line, and every later
        // reader of metrics.csv (evaluate's loss plot, the pipeline's summary) failed on the resumed run.
        var folder = Folder("cut");
        using (var first = new MetricsLog(folder))
            for (int e = 1; e <= 2; e++) first.OnNext(Epoch(e, 1.0 / e, 2.0 / e, false, e, 0));
        File.AppendAllText(folder.PathOf(MetricsLog.CsvName), "epoch,3,,0.33");
        File.AppendAllText(folder.PathOf(MetricsLog.EventsName), "{\"type\":\"Epoch");
        using (var resumed = new MetricsLog(folder))
            resumed.OnNext(Epoch(3, 0.3, 0.6, true, 3, 0));
        Assert.Equal([1, 2, 3], MetricsLog.ReadEpochs(folder).Select(r => r.Epoch));
        Assert.Equal(0.3, MetricsLog.ReadEpochs(folder)[2].TrainLoss);
        Assert.All(File.ReadAllLines(folder.PathOf(MetricsLog.EventsName)), l => System.Text.Json.JsonDocument.Parse(l).Dispose());
    }

    [Fact]
    public void Every_events_line_is_JSON_naming_its_event_type()
    {
        var folder = Folder("events");
        TrainingEvent[] events =
        [
            new TrainingStarted(TimeSpan.Zero, HmmTrainingConfig.Preset("quick", "linear3"), 123, 0, 4, "cpu"),
            new BatchCompleted(TimeSpan.FromSeconds(1), 1, 1, 0.75),
            Epoch(1, 0.5, double.NaN, true, 2, 0) with { Metrics = new Dictionary<string, double> { ["accuracy"] = 0.8 } },
            new CheckpointSaved(TimeSpan.FromSeconds(3), 1, "last.ckpt", true),
            new TrainingFinished(TimeSpan.FromSeconds(4), 1, 1, 0.5, false),
            new TrainingFailed(TimeSpan.FromSeconds(5), "out of memory, \"quoted\"\nand a new line") { Detail = "System.Exception: out of memory\n   at Step()" },
        ];
        using (var log = new MetricsLog(folder))
            foreach (var e in events) log.OnNext(e);
        var lines = File.ReadAllLines(folder.PathOf(MetricsLog.EventsName));
        Assert.Equal(events.Length, lines.Length);
        for (int i = 0; i < events.Length; i++)
        {
            using var json = JsonDocument.Parse(lines[i]);
            Assert.Equal(events[i].GetType().Name, json.RootElement.GetProperty("type").GetString());
            Assert.Equal(events[i].Elapsed.ToString(), json.RootElement.GetProperty("event").GetProperty("elapsed").GetString());
        }
        using var epoch = JsonDocument.Parse(lines[2]);
        Assert.Equal(1, epoch.RootElement.GetProperty("event").GetProperty("epoch").GetInt32());
        Assert.Equal(0.5, epoch.RootElement.GetProperty("event").GetProperty("trainLoss").GetDouble());
        using var failed = JsonDocument.Parse(lines[5]);
        Assert.Equal("out of memory, \"quoted\"\nand a new line", failed.RootElement.GetProperty("event").GetProperty("error").GetString());
        Assert.Equal("System.Exception: out of memory\n   at Step()", failed.RootElement.GetProperty("event").GetProperty("detail").GetString());
    }

    [Fact]
    public void TensorBoard_log_writes_a_non_empty_event_file()
    {
        // Existence and size only: the record format is TorchSharp's SummaryWriter's. A writer that saw no
        // scalars is the baseline, so a sink that drops every event writes no more than it.
        long Written(string name, bool events)
        {
            var folder = Folder(name);
            using (var tb = new TensorBoardLog(folder))
                if (events)
                {
                    tb.OnNext(new BatchCompleted(TimeSpan.FromSeconds(1), 1, 1, 0.75));
                    for (int e = 1; e <= 3; e++) tb.OnNext(Epoch(e, 1.0 / e, 2.0 / e, true, e, 1 << 20));
                }
            var dir = folder.PathOf("tensorboard");
            return Directory.Exists(dir) ? Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) : 0;
        }
        var baseline = Written("tb-empty", events: false);
        var written = Written("tb", events: true);
        Assert.True(written > 0, "no event file under tensorboard/");
        Assert.True(written > baseline, $"{written} bytes with 10 scalars, {baseline} with none");
    }
}
