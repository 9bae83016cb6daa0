using System.Text.Json;
using HmmRnn.Host.Output;

namespace HmmRnn.Host.Training;

/// <summary>
/// A run folder's config.json: the task's configuration with its task name ("task", the discriminator the task
/// registry gives it), written when a run starts and read by every command that opens the run.
/// </summary>
public static class RunConfig
{
    /// <summary>The file's name inside a run folder.</summary>
    public const string FileName = "config.json";

    private static IReadOnlyDictionary<string, Type> Tasks => HmmRnn.Host.Tasks.TaskRegistry.ConfigTypes;

    /// <summary>The task names (configuration discriminators).</summary>
    public static IReadOnlyCollection<string> TaskNames => [.. Tasks.Keys];

    /// <summary>The task of a config.json or checkpoint written before tasks had names.</summary>
    public static string Untagged => HmmRnn.Host.Tasks.TaskRegistry.Untagged;

    /// <summary>Writes the configuration (atomically) with its task name.</summary>
    public static string Write(RunFolder folder, ITaskConfig config)
    {
        ArgumentNullException.ThrowIfNull(folder);
        return folder.WriteJson(FileName, config);
    }

    /// <summary>Reads a run's configuration, whichever task it is; a config.json without a task name is of the registry's first task (written before tasks had names).</summary>
    /// <exception cref="InvalidDataException">no config.json, malformed JSON, an unknown task or a bad field; the message names the file.</exception>
    public static ITaskConfig Read(RunFolder folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var path = folder.PathOf(FileName);
        if (!File.Exists(path)) throw new InvalidDataException($"{folder.Path} has no {FileName}: not a run folder written by 'train' or 'ibl train'");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: must be a JSON object, got {doc.RootElement.ValueKind.ToString().ToLowerInvariant()}");
            var task = doc.RootElement.TryGetProperty("task", out var t) ? t.GetString() ?? "" : HmmRnn.Host.Tasks.TaskRegistry.Untagged;
            if (!Tasks.TryGetValue(task, out var type))
                throw new InvalidDataException($"{path}: unknown task '{task}'; known: {string.Join(", ", Tasks.Keys)}");
            var config = (ITaskConfig)(doc.RootElement.Deserialize(type, RunFolder.Json) ?? throw new InvalidDataException($"{path}: empty"));
            config.Check();
            return config;
        }
        // Said from the exceptions' data (the violation; the JSON path and line), never from their messages.
        catch (ValidationException e) { throw new InvalidDataException($"{path}: {e.Violation}", e); }
        catch (JsonException e)
        {
            throw new InvalidDataException(e.Path is { Length: > 1 } at
                ? $"{path}: {at[2..]}: a value of the wrong type (line {e.LineNumber + 1})"
                : $"{path}: not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})", e);
        }
        catch (NotSupportedException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
    }

    /// <summary>
    /// The torch device a reader of the run computes on: the configuration's (<see cref="Devices"/>: one behaviour for every
    /// command — a run on cuda is read on cuda, or refused where CUDA is not available; never a silent fall back).
    /// </summary>
    /// <exception cref="InvalidDataException">the device is not available here; the message names config.json.</exception>
    public static TorchSharp.torch.Device DeviceOf(RunFolder folder, ITaskConfig config)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(config);
        if (Devices.Problem(config.Device) is { } problem) throw new InvalidDataException($"{folder.PathOf(FileName)}: {problem}");
        return Devices.Select(config.Device);
    }

    /// <summary>Reads a run's configuration and checks that it is a run of task <typeparamref name="T"/>.</summary>
    /// <exception cref="InvalidDataException">as <see cref="Read(RunFolder)"/>, or the run belongs to another task.</exception>
    public static T Read<T>(RunFolder folder) where T : ITaskConfig
    {
        var config = Read(folder);
        if (config is T typed) return typed;
        var wanted = Tasks.First(kv => kv.Value == typeof(T)).Key;
        throw new InvalidDataException($"{folder.Path} is a run of the {config.Task} task, not of the {wanted} task");
    }

    /// <summary>The first 16 hex digits of the SHA-256 of a configuration's JSON (as its concrete type): what resume compares.</summary>
    public static string HashOf<T>(T config) where T : ITaskConfig
    {
        return ContentHash.Of(JsonSerializer.Serialize(config, RunFolder.Json));
    }
}
