using System.Text;
using System.Text.Json;
using HmmRnn.Host.Output;
using TorchSharp;
using static TorchSharp.torch;

namespace HmmRnn.Host.Training;

/// <summary>
/// What a checkpoint says about itself: epochs completed when it was written, the run's
/// <see cref="TrainingConfig.Hash"/> (resume refuses another), seed, best epoch and loss so far,
/// this epoch's validation loss, versions, and when it was written.
/// </summary>
public sealed record CheckpointMeta(int Epoch, string ConfigHash, long Seed, int BestEpoch, double BestValidationLoss,
    double ValidationLoss, string HmmRnnVersion, string TorchSharpVersion, string LibTorchVersion, DateTimeOffset Written);

/// <summary>
/// A checkpoint file: a header line, the metadata (JSON), the model's weights and the optimiser's
/// state (TorchSharp's own formats), each length-prefixed. Written atomically (temp file, rename).
/// </summary>
public static class Checkpoint
{
    private const string Magic = "HMMRNN-CHECKPOINT 1";

    /// <summary>Writes model, optimiser and metadata to the file <paramref name="name"/> inside <paramref name="folder"/>.</summary>
    public static string Save(RunFolder folder, string name, CheckpointMeta meta, nn.Module model, TorchSharp.Modules.OptimizerHelper optimizer)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(folder.PathOf(name))!);
        return folder.WriteAtomic(name, stream =>
        {
            using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            w.Write(Magic);
            w.Write(JsonSerializer.Serialize(meta, RunFolder.Json));
            WriteSection(w, inner => model.save(inner));
            WriteSection(w, inner => optimizer.save_state_dict(inner));
        });
    }

    /// <summary>Reads only the metadata.</summary>
    public static CheckpointMeta ReadMeta(string path)
    {
        using var r = Open(path);
        return ReadMetaFrom(r, path);
    }

    /// <summary>Loads weights (and the optimiser state, when given) from a checkpoint; returns its metadata.</summary>
    public static CheckpointMeta Load(string path, nn.Module model, TorchSharp.Modules.OptimizerHelper? optimizer)
    {
        using var r = Open(path);
        var meta = ReadMetaFrom(r, path);
        using (var inner = ReadSection(r)) model.load(inner);
        if (optimizer is not null)
            using (var inner = ReadSection(r)) optimizer.load_state_dict(inner);
        return meta;
    }

    private static BinaryReader Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"no checkpoint at {path}", path);
        return new BinaryReader(File.OpenRead(path), Encoding.UTF8);
    }

    private static CheckpointMeta ReadMetaFrom(BinaryReader r, string path)
    {
        var magic = r.ReadString();
        if (magic != Magic) throw new InvalidDataException($"{path}: not an HmmRnn checkpoint (header '{magic}')");
        return JsonSerializer.Deserialize<CheckpointMeta>(r.ReadString(), RunFolder.Json)
            ?? throw new InvalidDataException($"{path}: empty metadata");
    }

    private static void WriteSection(BinaryWriter w, Action<BinaryWriter> write)
    {
        using var ms = new MemoryStream();
        using (var inner = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true)) write(inner);
        w.Write(ms.Length);
        ms.Position = 0;
        ms.CopyTo(w.BaseStream);
    }

    private static BinaryReader ReadSection(BinaryReader r)
    {
        var length = r.ReadInt64();
        return new BinaryReader(new MemoryStream(r.ReadBytes(checked((int)length))), Encoding.UTF8);
    }
}
