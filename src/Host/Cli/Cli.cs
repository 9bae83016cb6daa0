using System.Globalization;
using HmmRnn.Core;
using Spectre.Console;
using Spectre.Console.Rendering;
using HmmRnn.Host.Output;

namespace HmmRnn.Host.Cli;

/// <summary>Spectre tables whose cells are plain text (no markup: our vectors contain brackets).</summary>
internal static class TableExtensions
{
    public static Table AddTextRow(this Table table, params string[] cells) =>
        table.AddRow(cells.Select(c => (IRenderable)new Text(c)).ToArray());
}

/// <summary>How a command refuses bad input and opens what it reads; the exit codes are <see cref="ExitCode"/>'s (shared with the experiment pipeline).</summary>
internal static class Cli
{

    /// <summary>The message on standard error (one line), exit 2.</summary>
    public static int Fail(string message) => ExitCode.Refuse(message);

    /// <summary>Refuses the value of one option in the one format of every refusal: "--option: rule, got value".</summary>
    public static int Refuse(System.CommandLine.Symbol option, object? value, string rule) =>
        Fail($"{option.Name}: {rule}, got {Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)}");

    /// <summary>An existing run folder named by a command's <c>run</c> argument, or null after saying why not (one line).</summary>
    public static Output.RunFolder? OpenRun(string path, string argument = "run")
    {
        if (!Directory.Exists(path)) { Fail($"{argument}: {path} is not a folder"); return null; }
        try { return Output.RunFolder.Create(path); }
        catch (IOException e) { Fail($"{argument}: {e.Message}"); return null; }
    }

    /// <summary>
    /// Runs a command's reading of a run folder (evaluate, analyse, export): a damaged or mismatched run — a file named in
    /// the exception's message — is refused in one line (exit 2); nothing else is caught. Returns the exit code.
    /// </summary>
    public static int Reading(Action read)
    {
        ArgumentNullException.ThrowIfNull(read);
        try
        {
            read();
            return ExitCode.Success;
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException or DirectoryNotFoundException) { return Fail(e.Message); }
    }

    /// <summary>
    /// Refuses a <see cref="Violation"/> in the command line's own words: the option that sets its field
    /// ("--hidden: must be > 0, got 0"). The option is the one named after the field in kebab case, or the one
    /// <paramref name="aliases"/> gives (field → option); a field no option sets (the preset's) is shown as "Field = value: rule".
    /// </summary>
    public static int Refuse(Violation violation, IEnumerable<System.CommandLine.Option> options, IReadOnlyDictionary<string, System.CommandLine.Option>? aliases = null)
    {
        var field = violation.Field.Split('.')[^1];
        var option = aliases?.GetValueOrDefault(violation.Field)
            ?? options.FirstOrDefault(o => o.Name == "--" + System.Text.Json.JsonNamingPolicy.KebabCaseLower.ConvertName(field));
        return Fail(option is null ? violation.ToString() : $"{option.Name}: {violation.Rule}, got {violation.Value}");
    }
}
