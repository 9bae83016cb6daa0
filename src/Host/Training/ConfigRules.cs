namespace HmmRnn.Host.Training;

/// <summary>How every task configuration refuses a bad field: one message format, and the loop's own fields checked once.</summary>
public static class ConfigRules
{
    /// <summary>Throws <see cref="ArgumentException"/> "Field = value: rule", naming the field.</summary>
    public static void Fail(string field, object? value, string rule) => throw new ArgumentException($"{field} = {value}: {rule}", field);

    /// <summary>The fields the training loop reads from every task: Epochs ≥ 1, Device cpu or cuda, LogEvery ≥ 1.</summary>
    public static void CheckLoop(ITaskConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Epochs < 1) Fail(nameof(config.Epochs), config.Epochs, "must be ≥ 1");
        if (config.Device is not ("cpu" or "cuda")) Fail(nameof(config.Device), config.Device, "must be cpu or cuda");
        if (config.LogEvery < 1) Fail(nameof(config.LogEvery), config.LogEvery, "must be ≥ 1");
    }
}
