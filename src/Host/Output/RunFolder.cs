using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace HmmRnn.Host.Output;

/// <summary>
/// A run's output folder. Every file is written whole or not at all: to a temporary file in the
/// same folder, then renamed over the target.
/// </summary>
public sealed class RunFolder
{
    /// <summary>JSON settings for every file we write: indented, camelCase, enums as names, NaN/∞ allowed.</summary>
    public static JsonSerializerOptions Json { get; } = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        AllowOutOfOrderMetadataProperties = true,
        // A task's configuration is written with its "task" and read back as its own type: the registry lists them.
        TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { Tasks.TaskRegistry.Polymorphism } },
    };

    private RunFolder(string path) => Path = path;

    /// <summary>The folder.</summary>
    public string Path { get; }

    /// <summary>Creates the folder (and parents) and checks that it can be written, before any work starts.</summary>
    /// <exception cref="IOException">an empty path, or the folder cannot be created or written; the message names it.</exception>
    public static RunFolder Create(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new IOException($"'{path}' names no folder");
        var full = System.IO.Path.GetFullPath(path);
        if (File.Exists(full)) throw new IOException($"'{full}' is a file, not a folder");
        try
        {
            Directory.CreateDirectory(full);
            var probe = System.IO.Path.Combine(full, $".write-test-{Environment.ProcessId}-{Guid.NewGuid():N}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new IOException($"cannot write to '{full}': {e.Message}", e);
        }
        return new RunFolder(full);
    }

    /// <summary>The full path of a file in the folder.</summary>
    public string PathOf(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Writes text atomically.</summary>
    public string WriteText(string name, string text) => WriteAtomic(name, s =>
    {
        using var w = new StreamWriter(s, new UTF8Encoding(false), leaveOpen: true);
        w.Write(text);
    });

    /// <summary>Writes a value as JSON atomically.</summary>
    public string WriteJson<T>(string name, T value) => WriteAtomic(name, s => JsonSerializer.Serialize(s, value, Json));

    /// <summary>
    /// Removes what writes killed half-way left behind: <see cref="WriteAtomic"/>'s temporary files (<c>.name.*.tmp</c>) anywhere
    /// in the folder. Only for the folder's owner (its <see cref="RunLock"/> held): another process's write in progress would
    /// look the same. Returns the files removed.
    /// </summary>
    public IReadOnlyList<string> RemoveLeftovers()
    {
        var removed = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Path, ".*.tmp", SearchOption.AllDirectories).ToList())
        {
            File.Delete(file);
            removed.Add(System.IO.Path.GetRelativePath(Path, file));
        }
        return removed;
    }

    /// <summary>Writes through a stream atomically: the target appears only once <paramref name="write"/> has finished.</summary>
    public string WriteAtomic(string name, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var target = PathOf(name);
        var dir = System.IO.Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(dir);
        var temp = System.IO.Path.Combine(dir, $".{System.IO.Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var s = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                write(s);
                s.Flush(flushToDisk: true);
            }
            File.Move(temp, target, overwrite: true);
            return target;
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
