using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace HmmRnn.Host.Output;

/// <summary>
/// A run folder owned by one process at a time: the file <see cref="FileName"/> in the folder, created atomically
/// (<see cref="FileMode.CreateNew"/>) and holding the owner's process id, deleted when disposed. A lock left by a
/// process that no longer runs (killed, crashed; or its id now belongs to a process started after the lock was written)
/// is taken over. Trainings take it before they write anything; a second one into the same folder is refused.
/// </summary>
/// <remarks>
/// Taking over a stale lock deletes it only while it still holds the stale content just read, then creates a new one
/// with <see cref="FileMode.CreateNew"/>: of two processes taking over at once, one wins and the other sees the winner alive.
/// </remarks>
public sealed class RunLock : IDisposable
{
    /// <summary>The lock's name inside a run folder.</summary>
    public const string FileName = ".lock";

    /// <summary>A lock file without a process id younger than this is being written, not abandoned.</summary>
    private static readonly TimeSpan Unfinished = TimeSpan.FromSeconds(10);

    private readonly string _path, _content;
    private bool _released;

    private RunLock(string path, string content) => (_path, _content) = (path, content);

    /// <summary>Takes <paramref name="folder"/>'s lock for this process.</summary>
    /// <exception cref="RunFolderInUseException">another running process (or another training in this one) holds it.</exception>
    /// <exception cref="IOException">the lock file cannot be created (e.g. the folder is not writable).</exception>
    public static RunLock Acquire(RunFolder folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var path = folder.PathOf(FileName);
        var content = Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n";
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                using (var s = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read))
                {
                    s.Write(Encoding.ASCII.GetBytes(content));
                    s.Flush(flushToDisk: true);
                }
                return new RunLock(path, content);
            }
            catch (IOException e) when (attempt < 5 && (File.Exists(path) || e.HResult == FileExists))
            {
                if (Read(path) is not { } found) continue; // released meanwhile: try again
                var (text, written) = found;
                var holder = int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : (int?)null;
                var stale = holder is int p ? !IsRunning(p, written) : DateTime.UtcNow - written > Unfinished;
                if (!stale || attempt >= 4) throw new RunFolderInUseException(folder.Path, holder);
                DeleteIfUnchanged(path, text);
            }
        }
    }

    /// <summary>The HRESULT of an <see cref="IOException"/> for a file that exists (ERROR_FILE_EXISTS; EEXIST on Unix).</summary>
    /// <summary>
    /// Whether another live process holds <paramref name="folder"/>'s lock (the folder need not exist): the refusal to give,
    /// or null when it is free or its lock is stale. For commands that refuse before writing anything; only
    /// <see cref="Acquire"/> guarantees the folder.
    /// </summary>
    public static RunFolderInUseException? InUse(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!File.Exists(Path.Combine(folder, FileName)) || Read(Path.Combine(folder, FileName)) is not { } found) return null;
        var (text, written) = found;
        var holder = int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : (int?)null;
        var stale = holder is int p ? !IsRunning(p, written) : DateTime.UtcNow - written > Unfinished;
        return stale ? null : new RunFolderInUseException(Path.GetFullPath(folder), holder);
    }

    private const int FileExists = unchecked((int)0x80070050);

    /// <summary>Releases the lock (deletes the file, if it is still this process's).</summary>
    public void Dispose()
    {
        if (_released) return;
        _released = true;
        DeleteIfUnchanged(_path, _content);
    }

    /// <summary>The lock's text and when it was written; null when it is gone (released meanwhile).</summary>
    private static (string Text, DateTime Written)? Read(string path)
    {
        try
        {
            var written = File.GetLastWriteTimeUtc(path);
            return (File.ReadAllText(path), written);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return null; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ("", DateTime.UtcNow); } // unreadable: treated as being written
    }

    /// <summary>Whether process <paramref name="pid"/> runs and is the one that wrote a lock at <paramref name="written"/> (not a later process given the same id).</summary>
    private static bool IsRunning(int pid, DateTime written)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var process = Process.GetProcessById(pid);
            if (process.HasExited) return false;
            return process.StartTime.ToUniversalTime() <= written + TimeSpan.FromSeconds(1);
        }
        catch (ArgumentException) { return false; }         // no such process
        catch (InvalidOperationException) { return false; } // it exited meanwhile
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or NotSupportedException) { return true; } // cannot tell: assume it runs
    }

    private static void DeleteIfUnchanged(string path, string content)
    {
        try
        {
            if (File.Exists(path) && File.ReadAllText(path) == content) File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}

/// <summary>A run folder is held by another process's (or another training's) <see cref="RunLock"/>; the message is one line naming it.</summary>
public sealed class RunFolderInUseException : IOException
{
    /// <summary>The refusal for <paramref name="folder"/>, held by process <paramref name="holder"/> (null: its id is not yet written).</summary>
    public RunFolderInUseException(string folder, int? holder)
        : base($"{folder} is in use by {(holder is int pid ? $"process {pid}" : "another process")} (its {RunLock.FileName}); " +
               "wait for that run to end or stop it (a lock left by a process that has exited is taken over)") => Holder = holder;

    /// <summary>The process id that holds the folder, when known.</summary>
    public int? Holder { get; }
}
