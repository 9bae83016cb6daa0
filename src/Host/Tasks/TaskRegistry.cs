using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using HmmRnn.Host.Training;

namespace HmmRnn.Host.Tasks;

/// <summary>
/// The tasks this build knows: one line per task. Everything that serves every task — the experiment loader, the
/// pipeline, the report, the sweep table, <c>export</c>, the JSON of config.json — finds a task here by its name or by
/// its configuration, and names none itself.
/// </summary>
public static class TaskRegistry
{
    /// <summary>Every task, in the order help texts and tables list them.</summary>
    public static IReadOnlyList<ITaskDescriptor> All { get; } =
    [
        Hmm.HmmDescriptor.Instance,
        Ibl.IblDescriptor.Instance,
        FlipFlop.FlipFlopDescriptor.Instance,
    ];

    /// <summary>The task of a config.json that names none: runs written before tasks had names were all of the first task.</summary>
    public static string Untagged => All[0].Name;

    /// <summary>The task names.</summary>
    public static IReadOnlyList<string> Names => [.. All.Select(d => d.Name)];

    /// <summary>The task named <paramref name="name"/>, or null.</summary>
    public static ITaskDescriptor? Find(string name) => All.FirstOrDefault(d => d.Name == name);

    /// <summary>The task a configuration belongs to (by its discriminator, <see cref="ITaskConfig.Task"/>).</summary>
    /// <exception cref="InvalidOperationException">no registered task trains this configuration.</exception>
    public static ITaskDescriptor Of(ITaskConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return All.FirstOrDefault(d => d.ConfigTypes.ContainsKey(config.Task))
            ?? throw new InvalidOperationException($"no registered task trains '{config.Task}' configurations");
    }

    /// <summary>Every configuration type, by discriminator (config.json's "task").</summary>
    public static IReadOnlyDictionary<string, Type> ConfigTypes { get; } =
        All.SelectMany(d => d.ConfigTypes).ToDictionary(kv => kv.Key, kv => kv.Value);

    /// <summary>
    /// Makes <see cref="ITaskConfig"/> polymorphic in JSON: written with its "task" first, read back as its own type.
    /// A <see cref="DefaultJsonTypeInfoResolver"/> modifier (<see cref="Output.RunFolder.Json"/> installs it).
    /// </summary>
    public static void Polymorphism(JsonTypeInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (info.Type != typeof(ITaskConfig)) return;
        var options = new JsonPolymorphismOptions { TypeDiscriminatorPropertyName = "task" };
        foreach (var (name, type) in ConfigTypes) options.DerivedTypes.Add(new JsonDerivedType(type, name));
        info.PolymorphismOptions = options;
    }
}
