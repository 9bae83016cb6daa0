using System.Collections.Immutable;

namespace HmmRnn.Core.Ibl;

/// <summary>A side of the screen, of a block or of an action: left = −1, right = +1.</summary>
public enum Side
{
    /// <summary>Left, −1.</summary>
    Left = -1,
    /// <summary>Right, +1.</summary>
    Right = 1,
}

/// <summary>Operations on <see cref="Side"/>.</summary>
public static class Sides
{
    /// <summary>The other side.</summary>
    /// <param name="side">Left or right.</param>
    public static Side Opposite(this Side side) => (Side)(-(int)side);
}

/// <summary>How block lengths are drawn (both are a hazard on the current block length; see <see cref="IblTaskConfig.BlockEndHazard"/>).</summary>
public enum BlockLengthModel
{
    /// <summary>
    /// Paper §2.1: after a trial that makes the block l trials long, the block ends with
    /// probability 0 if l &lt; min, p_b0 if min ≤ l &lt; max, 1 at l = max.
    /// </summary>
    SemiMarkovHazard,
    /// <summary>
    /// Reference code: a geometric(p_b0) length (support 1, 2, …) rejection-sampled into [min, max].
    /// Its hazard is p / (1 − (1 − p)^(max − l + 1)) for min ≤ l ≤ max.
    /// </summary>
    TruncatedGeometric,
}

/// <summary>
/// Every parameter of the IBL task (Schaeffer et al. 2020, §2.1; shared/SPEC.md B1). Use
/// <see cref="Paper"/> or <see cref="ReferenceCode"/> and change fields with <c>with</c>;
/// <see cref="Validate"/> (called by every consumer) names a bad field and its value.
/// </summary>
public sealed record IblTaskConfig
{
    /// <summary>p_b0: the per-trial probability that a block ends, inside [min, max] (paper 0.02).</summary>
    public double BlockHazard { get; init; } = 0.02;
    /// <summary>Shortest block, in trials (paper 20).</summary>
    public int MinBlockLength { get; init; } = 20;
    /// <summary>Longest block, in trials (paper 100).</summary>
    public int MaxBlockLength { get; init; } = 100;
    /// <summary>How block lengths are drawn.</summary>
    public BlockLengthModel BlockLengths { get; init; } = BlockLengthModel.SemiMarkovHazard;
    /// <summary>p_s: probability that the stimulus is on the block's side (paper 0.8).</summary>
    public double Concordance { get; init; } = 0.8;
    /// <summary>Stimulus contrasts μ, drawn uniformly (paper {0, 0.5, …, 2.5}).</summary>
    public ImmutableArray<double> Contrasts { get; init; } = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5];
    /// <summary>Standard deviation of each observation (paper 1).</summary>
    public double ObservationNoise { get; init; } = 1.0;
    /// <summary>Blank steps at the start of each trial, all stimulus inputs zero (paper 1, reference 2).</summary>
    public int BlankSteps { get; init; } = 1;
    /// <summary>Most observation steps in a trial before it times out (paper 10).</summary>
    public int MaxObservationSteps { get; init; } = 10;
    /// <summary>Feedback input on every waiting observation step (paper −0.05; the reference code feeds 0).</summary>
    public double WaitPenalty { get; init; } = -0.05;
    /// <summary>Feedback input, on the next step, after a correct action (+1).</summary>
    public double Reward { get; init; } = 1.0;
    /// <summary>Feedback input, on the next step, after a wrong action or a time-out (−1).</summary>
    public double Punishment { get; init; } = -1.0;
    /// <summary>The action threshold: an agent acts when an action's probability exceeds it (paper 0.9).</summary>
    public double ActionThreshold { get; init; } = IblActionRule.PaperThreshold;

    /// <summary>The paper's task (§2.1).</summary>
    public static IblTaskConfig Paper { get; } = new();

    /// <summary>The reference code's variant: truncated-geometric blocks, 2 blank steps, no wait penalty.</summary>
    public static IblTaskConfig ReferenceCode { get; } = new()
    {
        BlockLengths = BlockLengthModel.TruncatedGeometric,
        BlankSteps = 2,
        WaitPenalty = 0.0,
    };

    /// <summary>Steps in a trial that runs to its time-out.</summary>
    public int MaxStepsPerTrial => BlankSteps + MaxObservationSteps;

    /// <summary>
    /// P(the block ends after this trial | the block is <paramref name="length"/> trials long so far):
    /// the one quantity the generative process and the exact filter share.
    /// </summary>
    public double BlockEndHazard(int length)
    {
        if (length < MinBlockLength) return 0;
        if (length >= MaxBlockLength) return 1;
        return BlockLengths switch
        {
            BlockLengthModel.SemiMarkovHazard => BlockHazard,
            _ => BlockHazard / (1 - Math.Pow(1 - BlockHazard, MaxBlockLength - length + 1)),
        };
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad field and its value; returns this otherwise.</summary>
    public IblTaskConfig Validate()
    {
        static void Fail(string field, object value, string rule) =>
            throw new ArgumentException($"IblTaskConfig.{field} = {value}: {rule}", field);
        if (!(BlockHazard > 0 && BlockHazard <= 1)) Fail(nameof(BlockHazard), BlockHazard, "must be in (0, 1]");
        if (MinBlockLength < 1) Fail(nameof(MinBlockLength), MinBlockLength, "must be ≥ 1");
        if (MaxBlockLength < MinBlockLength)
            Fail(nameof(MaxBlockLength), MaxBlockLength, $"must be ≥ MinBlockLength ({MinBlockLength})");
        if (!(Concordance >= 0 && Concordance <= 1)) Fail(nameof(Concordance), Concordance, "must be a probability in [0, 1]");
        if (Contrasts.IsDefaultOrEmpty) Fail(nameof(Contrasts), "[]", "needs at least one contrast");
        foreach (var c in Contrasts)
            if (!(c >= 0 && double.IsFinite(c))) Fail(nameof(Contrasts), c, "every contrast must be finite and ≥ 0");
        if (!(ObservationNoise > 0 && double.IsFinite(ObservationNoise))) Fail(nameof(ObservationNoise), ObservationNoise, "must be finite and > 0");
        if (BlankSteps < 0) Fail(nameof(BlankSteps), BlankSteps, "must be ≥ 0");
        if (MaxObservationSteps < 1) Fail(nameof(MaxObservationSteps), MaxObservationSteps, "must be ≥ 1");
        if (IblActionRule.Problem(ActionThreshold) is { } threshold) Fail(threshold.Field, ActionThreshold, threshold.Rule);
        foreach (var (name, v) in new[] { (nameof(WaitPenalty), WaitPenalty), (nameof(Reward), Reward), (nameof(Punishment), Punishment) })
            if (!double.IsFinite(v)) Fail(name, v, "must be finite");
        return this;
    }

    /// <inheritdoc />
    public bool Equals(IblTaskConfig? other) =>
        other is not null && BlockHazard == other.BlockHazard && MinBlockLength == other.MinBlockLength
        && MaxBlockLength == other.MaxBlockLength && BlockLengths == other.BlockLengths && Concordance == other.Concordance
        && Contrasts.AsSpan().SequenceEqual(other.Contrasts.AsSpan()) && ObservationNoise == other.ObservationNoise
        && BlankSteps == other.BlankSteps && MaxObservationSteps == other.MaxObservationSteps && WaitPenalty == other.WaitPenalty
        && Reward == other.Reward && Punishment == other.Punishment && ActionThreshold == other.ActionThreshold;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(BlockHazard, MinBlockLength, MaxBlockLength, BlockLengths, Concordance, Contrasts.Length, BlankSteps, MaxObservationSteps);
}
