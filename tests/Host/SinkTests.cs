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

    // Bug caught: the header or the scalars stamped in .NET ticks or whole seconds (TorchSharp's SummaryWriter: 6.39e17 in the
    // header, then 1.7e9: time ran backwards), a wrong CRC (TensorBoard drops the file), a tag dropped, the value written as
    // double where the proto says float. Decoded here by an independent reader: TFRecord framing with its own table-driven
    // CRC-32C (checked on the standard vector) and a generic protobuf field walker.
    [Fact]
    public void TensorBoard_events_decode_with_unix_seconds_that_move_forward_and_every_tag()
    {
        Assert.Equal(0xE3069283u, Crc32CTable("123456789"u8)); // RFC 3720 / iSCSI check value
        Assert.Equal(0xE3069283u, TensorBoardEventFile.Crc32C("123456789"u8));
        var folder = Folder("tb");
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        string path;
        using (var tb = new TensorBoardLog(folder))
        {
            path = tb.Path;
            tb.OnNext(new BatchCompleted(TimeSpan.FromSeconds(1), 1, 10, 0.75));
            for (int e = 1; e <= 3; e++)
                tb.OnNext(Epoch(e, 1.0 / e, 2.0 / e, true, e, 1 << 20) with
                {
                    Metrics = new Dictionary<string, double> { ["transition_error"] = 0.01 * e }, ValidationLossName = "error_rate",
                });
        }
        var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0 + 0.01;
        Assert.StartsWith("events.out.tfevents.", Path.GetFileName(path));
        var records = ReadRecords(File.ReadAllBytes(path));
        var version = Fields(records[0]);
        Assert.Equal("brain.Event:2", System.Text.Encoding.UTF8.GetString((byte[])version[3]));
        var scalars = new List<(double Wall, long Step, string Tag, float Value)>();
        foreach (var record in records.Skip(1))
        {
            var e = Fields(record);
            var value = Fields((byte[])Fields((byte[])e[5])[1]);
            scalars.Add(((double)e[1], (long)(ulong)e[2], System.Text.Encoding.UTF8.GetString((byte[])value[1]), (float)value[2]));
        }
        Assert.All(scalars.Prepend(((double)version[1], 0, "", 0)), s => Assert.InRange(s.Wall, before - 0.01, after));
        for (int i = 1; i < scalars.Count; i++) Assert.True(scalars[i].Wall >= scalars[i - 1].Wall, "wall time went backwards");
        Assert.Contains(("train/loss_batch", 10L, 0.75f), scalars.Select(s => (s.Tag, s.Step, s.Value)));
        Assert.Contains(("validation/error_rate", 2L, 1.0f), scalars.Select(s => (s.Tag, s.Step, s.Value)));
        Assert.Contains(("validation/transition_error", 3L, 0.03f), scalars.Select(s => (s.Tag, s.Step, s.Value)));
        Assert.Contains(("train/loss", 3L, (float)(1.0 / 3)), scalars.Select(s => (s.Tag, s.Step, s.Value)));
        Assert.Contains(("memory/resident_mb", 1L, 1f), scalars.Select(s => (s.Tag, s.Step, s.Value)));
        Assert.Equal(1 + 3 * 4, scalars.Count);
    }

    // Bug caught: the task metric missing from metrics.csv (it was only in events.jsonl), or a resumed run of an older file
    // given a ninth column its header lacks.
    [Fact]
    public void Metrics_csv_carries_the_task_metric_column_and_an_old_file_keeps_its_columns()
    {
        var folder = Folder("metric");
        using (var log = new MetricsLog(folder, "transition_error"))
        {
            log.OnNext(Epoch(1, 1, 2, true, 1, 0) with { Metrics = new Dictionary<string, double> { ["transition_error"] = 0.0042 } });
            log.OnNext(Epoch(2, 1, 2, false, 2, 0));
        }
        var lines = File.ReadAllLines(folder.PathOf(MetricsLog.CsvName));
        Assert.EndsWith(",resident_mb,transition_error", lines[0]);
        Assert.EndsWith(",0.0042", lines[1]);
        Assert.EndsWith(",", lines[2]);
        Assert.Equal(2, MetricsLog.ReadEpochs(folder).Count);

        var old = Folder("old");
        File.WriteAllText(old.PathOf(MetricsLog.CsvName), "kind,epoch,step,train_loss,validation_loss,is_best,elapsed_s,resident_mb\n");
        using (var log = new MetricsLog(old, "transition_error"))
            log.OnNext(Epoch(1, 1, 2, true, 1, 0) with { Metrics = new Dictionary<string, double> { ["transition_error"] = 0.5 } });
        var oldLines = File.ReadAllLines(old.PathOf(MetricsLog.CsvName));
        Assert.Equal(8, oldLines[1].Split(',').Length);
        Assert.Single(MetricsLog.ReadEpochs(old));
    }

    private static List<byte[]> ReadRecords(byte[] file)
    {
        var records = new List<byte[]>();
        int at = 0;
        while (at < file.Length)
        {
            var length = (int)BitConverter.ToUInt64(file, at);
            Assert.Equal(Mask(Crc32CTable(file.AsSpan(at, 8))), BitConverter.ToUInt32(file, at + 8));
            var data = file.AsSpan(at + 12, length).ToArray();
            Assert.Equal(Mask(Crc32CTable(data)), BitConverter.ToUInt32(file, at + 12 + length));
            records.Add(data);
            at += 12 + length + 4;
        }
        return records;
    }

    /// <summary>Top-level protobuf fields by number: varint → ulong, fixed64 → double, length-delimited → byte[], fixed32 → float.</summary>
    private static Dictionary<int, object> Fields(byte[] message)
    {
        var fields = new Dictionary<int, object>();
        int at = 0;
        ulong Varint()
        {
            ulong v = 0;
            for (int shift = 0; ; shift += 7)
            {
                var b = message[at++];
                v |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return v;
            }
        }
        while (at < message.Length)
        {
            var key = Varint();
            int field = (int)(key >> 3);
            switch (key & 7)
            {
                case 0: fields[field] = Varint(); break;
                case 1: fields[field] = BitConverter.ToDouble(message, at); at += 8; break;
                case 2: var n = (int)Varint(); fields[field] = message.AsSpan(at, n).ToArray(); at += n; break;
                case 5: fields[field] = BitConverter.ToSingle(message, at); at += 4; break;
                default: throw new InvalidDataException($"wire type {key & 7}");
            }
        }
        return fields;
    }

    private static uint Mask(uint crc) => unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);

    private static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(i =>
    {
        uint c = (uint)i;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (uint)-(int)(c & 1));
        return c;
    }).ToArray();

    private static uint Crc32CTable(ReadOnlySpan<byte> data)
    {
        uint crc = ~0u;
        foreach (var b in data) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }
}
