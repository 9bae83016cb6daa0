using HmmRnn.Core;

namespace HmmRnn.Host.Training;

/// <summary>How every task configuration refuses a bad field: one message format, and the loop's own fields checked once.</summary>
public static class ConfigRules
{
    /// <summary>Throws a <see cref="ValidationException"/> "Field = value: rule", naming the field.</summary>
    public static void Fail(string field, object? value, string rule) => throw new ValidationException(Violation.Of(field, value, rule));

    /// <summary>
    /// The fields the training loop reads from every task — Epochs ≥ 1, Seed ≥ 0, Device cpu or cuda (whether this machine
    /// has it is <see cref="Devices.Problem"/>'s question, asked where a run starts), LogEvery ≥ 1 — and the task's memory
    /// bounds (<see cref="Tasks.ITaskDescriptor.Limits"/>), so that every configuration's <c>Check()</c> applies them.
    /// </summary>
    public static void CheckLoop(ITaskConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Epochs < 1) Fail(nameof(config.Epochs), config.Epochs, "must be ≥ 1");
        if (config.Seed < 0) Fail(nameof(config.Seed), config.Seed, "must be ≥ 0");
        if (!Devices.IsKnown(config.Device)) Fail(nameof(config.Device), config.Device, "must be cpu or cuda");
        if (config.LogEvery < 1) Fail(nameof(config.LogEvery), config.LogEvery, "must be ≥ 1");
        if (Tasks.TaskRegistry.All.FirstOrDefault(d => d.ConfigTypes.ContainsKey(config.Task))?.Limits(config) is { } beyond)
            throw new ValidationException(beyond);
    }

    /// <summary>
    /// A size beyond its memory bound, as the one wording of every such limit ("must be ≤ 4096"), or null. The bounds keep a
    /// typo (<c>--hidden 100000</c>) from allocating tens of gigabytes; docs/architecture.md lists them.
    /// </summary>
    public static Violation? AtMost(string field, long value, long max) => Violation.AtMost(field, value, max);
}

/// <summary>
/// A configuration or option refused: the <see cref="Core.Violation"/> (field, value, rule) as data, for the command line
/// to show with its option name and the experiment loader with its JSON path. Its message is "Field = value: rule".
/// </summary>
public sealed class ValidationException : ArgumentException
{
    /// <summary>The refusal of <paramref name="violation"/>.</summary>
    public ValidationException(Violation violation) : base(violation?.ToString(), violation?.Field) =>
        Violation = violation ?? throw new ArgumentNullException(nameof(violation));

    /// <summary>What was refused and why.</summary>
    public Violation Violation { get; }

    /// <summary>"Field = value: rule" (no parameter suffix).</summary>
    public override string Message => Violation.ToString();
}
