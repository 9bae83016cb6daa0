using System.Reflection;
using System.Text.Json.Nodes;

namespace HmmRnn.Host.Experiments;

/// <summary>
/// The experiment files of the repository's experiments/ folder, built into the tool, so that an installed <c>hmmrnn</c>
/// runs them by name from any folder (<c>hmmrnn run hmm-quick</c>), lists them (<c>hmmrnn experiments</c>) and prints one to
/// copy and edit (<c>hmmrnn experiments show hmm-quick</c>).
/// </summary>
public static class ShippedExperiments
{
    private const string Prefix = "experiments/";

    /// <summary>The shipped experiments' names (file names without .json), sorted; the schema is not one.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. typeof(ShippedExperiments).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".json", StringComparison.Ordinal) && n != Prefix + "schema.json")
        .Select(n => n[Prefix.Length..^".json".Length]).Order(StringComparer.Ordinal)];

    /// <summary>The JSON text of the shipped experiment <paramref name="name"/> (with or without .json; "schema" gives the schema), or null.</summary>
    public static string? Text(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var file = name.EndsWith(".json", StringComparison.Ordinal) ? name : name + ".json";
        using var stream = typeof(ShippedExperiments).Assembly.GetManifestResourceStream(Prefix + file);
        if (stream is null) return null;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>One line about a shipped experiment: its task and description.</summary>
    public static string Describe(string name)
    {
        var json = JsonNode.Parse(Text(name) ?? throw new ArgumentException($"no shipped experiment '{name}'", nameof(name)),
            documentOptions: new System.Text.Json.JsonDocumentOptions { CommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true });
        return $"{json?["task"]}: {json?["description"]}";
    }

    /// <summary>
    /// What <c>run</c> and <c>sweep</c> load for their argument: the file at <paramref name="argument"/> if there is one, else the
    /// shipped experiment of that name.
    /// </summary>
    /// <exception cref="ExperimentException">neither a file nor a shipped experiment (the message lists the shipped names).</exception>
    public static Experiment Load(string argument)
    {
        ArgumentNullException.ThrowIfNull(argument);
        if (File.Exists(argument)) return Experiment.Load(argument);
        if (!argument.Contains('/') && Text(argument) is { } json && Path.GetFileNameWithoutExtension(argument) != "schema")
            return Experiment.FromText(json, $"{Path.GetFileNameWithoutExtension(argument)} (shipped)");
        throw new ExperimentException("", $"no such experiment file, nor a shipped experiment (shipped: {string.Join(", ", Names)})", file: argument);
    }
}
