using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using HmmRnn.Core;
using HmmRnn.Core.Ibl;

namespace HmmRnn.Testing;

/// <summary>FsCheck generators for the IBL task: valid configurations and seeds of sessions.</summary>
public static class IblGen
{
    /// <summary>
    /// A valid task: block lengths in small ranges (so tests see many blocks), concordance in
    /// [0.5, 1), 1–4 contrasts, 0–2 blank steps, 1–10 observation steps, either block model.
    /// </summary>
    public static Gen<IblTaskConfig> Config { get; } =
        from min in Gen.Choose(1, 6)
        from extra in Gen.Choose(0, 6)
        from hazard in Gen.Choose(5, 60).Select(x => x / 100.0)
        from ps in Gen.Choose(50, 99).Select(x => x / 100.0)
        from contrasts in Gen.Choose(0, 30).Select(x => x / 10.0).ArrayOf().Where(a => a.Length is > 0 and <= 4)
        from blank in Gen.Choose(0, 2)
        from steps in Gen.Choose(1, 10)
        from model in Gen.Elements(BlockLengthModel.SemiMarkovHazard, BlockLengthModel.TruncatedGeometric)
        select new IblTaskConfig
        {
            MinBlockLength = min, MaxBlockLength = min + extra, BlockHazard = hazard, Concordance = ps,
            Contrasts = [.. contrasts.Distinct()], BlankSteps = blank, MaxObservationSteps = steps, BlockLengths = model,
        };

    /// <summary>A configuration and a seed for a session.</summary>
    public static Gen<(IblTaskConfig Config, Rng Seed)> Session { get; } =
        from c in Config
        from seed in Gen.Choose(int.MinValue, int.MaxValue)
        select (c, Rng.FromSeed(seed));

    /// <summary>Plays <paramref name="trials"/> trials with a policy that waits <paramref name="wait"/> observation steps, then picks right.</summary>
    public static ImmutableArray<IblOutcome> Play(IblTaskConfig config, Rng rng, int trials, int wait = 1)
    {
        var outcomes = ImmutableArray.CreateBuilder<IblOutcome>(trials);
        var env = IblEnvironment.Start(config, rng);
        while (outcomes.Count < trials)
        {
            var step = env.Current;
            Side? act = !step.IsBlank && step.StepInTrial - config.BlankSteps + 1 >= wait ? Side.Right : null;
            (var o, env) = IblEnvironment.Advance(env, act);
            if (o is not null) outcomes.Add(o);
        }
        return outcomes.MoveToImmutable();
    }
}
