namespace HmmRnn.Host.Output;

/// <summary>
/// The exit codes of every command and of the experiment pipeline (the root's --help says them): 0 success, 2 bad input
/// (refused before anything is written), 1 a failure while running, 130 interrupted. A refusal is its message on standard
/// error, one line, and exit 2.
/// </summary>
public static class ExitCode
{
    /// <summary>The codes.</summary>
    public const int Success = 0, Failure = 1, UsageError = 2, Interrupted = 130;

    /// <summary>Writes <paramref name="message"/> (one line) to standard error; returns <see cref="UsageError"/>.</summary>
    public static int Refuse(string message)
    {
        Console.Error.WriteLine(message);
        return UsageError;
    }
}
