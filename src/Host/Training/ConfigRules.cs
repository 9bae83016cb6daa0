using HmmRnn.Core;

namespace HmmRnn.Host.Training;

/// <summary>How every task configuration refuses a bad field: one message format, and the loop's own fields checked once.</summary>
public static class ConfigRules
{
    /// <summary>Throws a <see cref="ValidationException"/> "Field = value: rule", naming the field.</summary>
    public static void Fail(string field, object? value, string rule) => throw new ValidationException(Violation.Of(field, value, rule));

    /// <summary>The fields the training loop reads from every task: Epochs ≥ 1, Device cpu or cuda, LogEvery ≥ 1.</summary>
    public static void CheckLoop(ITaskConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Epochs < 1) Fail(nameof(config.Epochs), config.Epochs, "must be ≥ 1");
        if (config.Device is not ("cpu" or "cuda")) Fail(nameof(config.Device), config.Device, "must be cpu or cuda");
        if (config.LogEvery < 1) Fail(nameof(config.LogEvery), config.LogEvery, "must be ≥ 1");
    }
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
