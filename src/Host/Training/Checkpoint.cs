using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using HmmRnn.Host.Output;
using TorchSharp;
using static TorchSharp.torch;

namespace HmmRnn.Host.Training;

/// <summary>
/// What a checkpoint says about itself: epochs completed when it was written, the run's
/// <see cref="ITaskConfig.Hash"/> (resume refuses another), seed, best epoch and its selection score so far
/// (<see cref="Validation.Score"/>: the validation loss unless the task selects by another measure), this epoch's score, versions, when it was written, and the task it belongs to.
/// </summary>
public sealed record CheckpointMeta(int Epoch, string ConfigHash, long Seed, int BestEpoch, double BestValidationLoss,
    double ValidationLoss, string HmmRnnVersion, string TorchSharpVersion, string LibTorchVersion, DateTimeOffset Written)
{
    /// <summary>The task (its configuration's discriminator); null in checkpoints written before tasks had names (<see cref="RunConfig.Untagged"/>).</summary>
    public string? Task { get; init; }

    /// <summary>The factor on the task's learning rates when this was written (<see cref="ITrainingTask.LearningRateScale"/>): 1, halved by each rollback.</summary>
    public double LearningRateScale { get; init; } = 1;

    /// <summary>How many times the run had rolled back to its best checkpoint (<see cref="Trainer.MaxRollbacks"/>) when this was written.</summary>
    public int Rollbacks { get; init; }

    /// <summary>The matrix kernels the run used (<see cref="MklVendorCheck.Kernels"/>); null in checkpoints written before they were recorded.</summary>
    public string? MatrixKernels { get; init; }
}

/// <summary>
/// A checkpoint file: a header line, the metadata (JSON), the model's weights and the optimiser's
/// state (TorchSharp's own formats), each length-prefixed. Written atomically (temp file, rename).
/// Every problem reading one (missing, truncated, another format version, weights of other shapes)
/// is an <see cref="InvalidDataException"/> (or <see cref="FileNotFoundException"/>) whose message names the file.
/// </summary>
public static class Checkpoint
{
    private const string Format = "HMMRNN-CHECKPOINT ", Version = "1", Magic = Format + Version;

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
    public static CheckpointMeta ReadMeta(string path) => Reading(path, () =>
    {
        using var r = Open(path);
        return ReadMetaFrom(r, path);
    });

    /// <summary>
    /// Reads the metadata and checks that the file is whole (both sections there, of their stated lengths) without loading
    /// the weights: what a resume checks before it writes anything.
    /// </summary>
    public static CheckpointMeta ReadMetaOfWhole(string path) => Reading(path, () =>
    {
        using var r = Open(path);
        var meta = ReadMetaFrom(r, path);
        SkipSection(r);
        SkipSection(r);
        return meta;
    });

    /// <summary>Loads weights (and the optimiser state, when given) from a checkpoint; returns its metadata.</summary>
    public static CheckpointMeta Load(string path, nn.Module model, TorchSharp.Modules.OptimizerHelper? optimizer) => Reading(path, () =>
    {
        using var r = Open(path);
        var meta = ReadMetaFrom(r, path);
        using (var inner = ReadSection(r))
        {
            try { model.load(inner); }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or ExternalException)
            {
                throw new InvalidDataException($"{path}: its weights do not fit this model ({FirstLine(e.Message)})", e);
            }
        }
        // A diverged network is refused by every reader (evaluate, analyze, export, resume), whatever wrote it.
        if (NonFiniteParameter(model) is { } bad)
            throw new InvalidDataException($"{path}: its weights are not finite ({bad} holds NaN or ±∞): the training diverged; train again with a smaller learning rate");
        // The optimiser's section is read (its length checked) also when not wanted: a file cut short anywhere is refused.
        using (var inner = ReadSection(r)) optimizer?.load_state_dict(inner);
        return meta;
    });

    /// <summary>
    /// Loads a run's trained weights for a reader (evaluate, analyse, export, a distilled student's teacher): the
    /// checkpoint must have been written by the run that <paramref name="config"/> (its config.json) describes — the same
    /// task and the same <see cref="ITaskConfig.Hash"/> — so that an edited config.json (another HMM, another seed) is refused
    /// instead of measuring the network against the wrong model; and its weights must be finite (<see cref="Load"/>).
    /// </summary>
    /// <exception cref="InvalidDataException">another task or configuration, a damaged file or weights that are not finite; the message names the file.</exception>
    /// <exception cref="FileNotFoundException">no such checkpoint.</exception>
    public static CheckpointMeta LoadTrained(string path, ITaskConfig config, nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(config);
        var meta = ReadMeta(path);
        var task = meta.Task ?? RunConfig.Untagged;
        if (task != config.Task)
            throw new InvalidDataException($"{path} was written by a run of the {task} task, but its config.json is of the {config.Task} task");
        if (meta.ConfigHash != config.Hash())
            throw new InvalidDataException($"{path} was written by another configuration than its config.json (config hash {meta.ConfigHash}, config.json's {config.Hash()}): " +
                                           "config.json was edited or the checkpoint comes from another run; restore config.json or train again");
        return Load(path, model, null);
    }

    /// <summary>The name of the first parameter of <paramref name="model"/> holding NaN or ±∞, or null when all are finite.</summary>
    public static string? NonFiniteParameter(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var _ = no_grad();
        foreach (var (name, parameter) in model.named_parameters())
        {
            using var finite = isfinite(parameter).all();
            if (!finite.item<bool>()) return name;
        }
        return null;
    }

    /// <summary>Runs a read, turning a truncated or garbled file into one clear error naming it.</summary>
    private static T Reading<T>(string path, Func<T> read)
    {
        try { return read(); }
        catch (Exception e) when (e is EndOfStreamException or JsonException or OverflowException or OutOfMemoryException)
        {
            throw new InvalidDataException($"{path}: truncated or corrupt checkpoint ({FirstLine(e.Message)})", e);
        }
    }

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();

    private static BinaryReader Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"no checkpoint at {path}", path);
        return new BinaryReader(File.OpenRead(path), Encoding.UTF8);
    }

    private static CheckpointMeta ReadMetaFrom(BinaryReader r, string path)
    {
        string magic;
        try { magic = r.ReadString(); }
        catch (Exception e) when (e is EndOfStreamException or FormatException) { magic = ""; }
        if (magic.StartsWith(Format, StringComparison.Ordinal) && magic != Magic)
            throw new InvalidDataException($"{path}: checkpoint format version {magic[Format.Length..]}; this build reads version {Version}");
        if (magic != Magic) throw new InvalidDataException($"{path}: not an HmmRnn checkpoint");
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

    private static BinaryReader ReadSection(BinaryReader r) =>
        new(new MemoryStream(r.ReadBytes(checked((int)SectionLength(r)))), Encoding.UTF8);

    private static void SkipSection(BinaryReader r) => r.BaseStream.Seek(SectionLength(r), SeekOrigin.Current);

    /// <summary>A section's length, checked against what is left of the file.</summary>
    private static long SectionLength(BinaryReader r)
    {
        var length = r.ReadInt64();
        if (length < 0 || length > r.BaseStream.Length - r.BaseStream.Position)
            throw new EndOfStreamException($"a section of {length} bytes, {r.BaseStream.Length - r.BaseStream.Position} left in the file");
        return length;
    }
}
