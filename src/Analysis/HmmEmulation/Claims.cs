using System.Collections.Immutable;
using HmmRnn.Analysis.Dynamics;

namespace HmmRnn.Analysis.HmmEmulation;

/// <summary>
/// The thresholds that turn one network's analyses into verdicts on the claims of Torre et al. (2025)'s abstract. Stated once
/// here so that the atlas's counts mean one thing (issue 19); the defaults are the report's.
/// </summary>
/// <param name="MinModulation">Noise-sustained orbits: the emission probabilities swing by at least this with the orbit's phase.</param>
/// <param name="MinCirculation">A rotation: at least this share of steps turn the phase one way (0.5 is back and forth).</param>
/// <param name="MinSlowShare">Slow regions: at least this share of states in slow clusters.</param>
/// <param name="MinSlowSymbols">…with slow clusters for at least this many symbols (at most the number of outputs).</param>
/// <param name="Alpha">Kick units and kick directions: ablation's permutation p below this.</param>
/// <param name="MinEffect">…and switching cut by at least this share.</param>
/// <param name="ResonanceBand">Stochastic resonance: the σ with the lowest transition error within this share of the trained σ.</param>
public sealed record ClaimCriteria(double MinModulation = 0.5, double MinCirculation = 0.6, double MinSlowShare = 0.3, int MinSlowSymbols = 2,
    double Alpha = 0.05, double MinEffect = 0.25, double ResonanceBand = 0.25)
{
    /// <summary>The defaults above.</summary>
    public static ClaimCriteria Default { get; } = new();
}

/// <summary>
/// One network's verdicts, claim by claim (null: the analysis behind it did not run).
/// </summary>
/// <param name="Collapse">Without noise, activity collapses to a single fixed point: every noise-free start reaches the origin, the exact search finds no fixed ray and no 2-cycle, and one long noisy run stays bounded.</param>
/// <param name="Orbit">Noise-sustained orbits: the collapse holds (the orbit exists only under noise) and emission swings with the orbit's phase by ≥ <see cref="ClaimCriteria.MinModulation"/>.</param>
/// <param name="Rotation">The orbit turns one way in ≥ <see cref="ClaimCriteria.MinCirculation"/> of steps (a circulation, not excursions out and back).</param>
/// <param name="SlowRegions">Slow regions joined by fast transitions: ≥ <see cref="ClaimCriteria.MinSlowShare"/> of states in slow clusters, for ≥ <see cref="ClaimCriteria.MinSlowSymbols"/> symbols, and fast-transition states whose Jacobians have at least as many unstable directions as the slow clusters'.</param>
/// <param name="KickUnits">A small set of kick units initiates transitions: units were found, and silencing them cuts switching by ≥ <see cref="ClaimCriteria.MinEffect"/> with p &lt; <see cref="ClaimCriteria.Alpha"/> against random sets.</param>
/// <param name="KickDirections">The same asked of directions: mean-ablating the kick directions cuts switching by ≥ MinEffect with p &lt; Alpha against random subspaces, and by more than twice what the same ablation of the leading principal directions does.</param>
/// <param name="Resonance">Stochastic resonance: the transition error is lowest within <see cref="ClaimCriteria.ResonanceBand"/> of the trained σ.</param>
public sealed record ClaimVerdicts(bool? Collapse, bool? Orbit, bool? Rotation, bool? SlowRegions, bool? KickUnits, bool? KickDirections, bool? Resonance)
{
    /// <summary>The claims' keys in the order of the abstract, with a short name (table columns) and a full one (table rows).</summary>
    public static ImmutableArray<(string Key, string Short, string Name)> Names { get; } =
    [
        ("claimCollapse", "collapse", "without noise, activity collapses to a single fixed point"),
        ("claimOrbit", "orbit", "noise-sustained orbits (emission swings with the orbit's phase)"),
        ("claimRotation", "rotation", "… that rotate one way"),
        ("claimSlowRegions", "slow regions", "slow regions joined by fast transitions"),
        ("claimKickUnits", "kick units", "a small set of kick units initiates transitions"),
        ("claimKickDirections", "kick directions", "… or, where no unit does, a few kick directions"),
        ("claimResonance", "resonance", "stochastic resonance at the trained noise"),
    ];

    /// <summary>The verdicts as 1/0 by key (<see cref="Names"/>), those not decided left out.</summary>
    public IReadOnlyDictionary<string, double> ToMetrics()
    {
        bool?[] values = [Collapse, Orbit, Rotation, SlowRegions, KickUnits, KickDirections, Resonance];
        var result = new Dictionary<string, double>();
        for (int i = 0; i < values.Length; i++)
            if (values[i] is bool b) result[Names[i].Key] = b ? 1 : 0;
        return result;
    }
}

/// <summary>Scores one network's analyses against the abstract's claims (<see cref="ClaimCriteria"/>).</summary>
public static class Claims
{
    /// <summary>The verdicts of one network.</summary>
    /// <param name="report">Its <see cref="HmmNetworkAnalysis"/> report.</param>
    /// <param name="resonance">Its σ sweep, or null.</param>
    /// <param name="criteria">The thresholds (default <see cref="ClaimCriteria.Default"/>).</param>
    public static ClaimVerdicts Score(HmmNetworkReport report, ResonanceCurve? resonance, ClaimCriteria? criteria = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        var c = criteria ?? ClaimCriteria.Default;
        bool? collapse = report.NoiseFree is { } n
            ? n.CollapsesToOrigin && n.FixedRays.IsEmpty && (n.TwoCycles?.Cycles.IsEmpty ?? true) && report.DivergedAt < 0
            : null;
        bool? orbit = report.Orbit is { } o && collapse is bool collapsed ? collapsed && o.Modulation >= c.MinModulation : null;
        bool? rotation = report.Orbit is { } p ? Math.Max(p.Circulation, 1 - p.Circulation) >= c.MinCirculation : null;
        bool? slow = report.Residency is { } r ? SlowRegions(r, c) : null;
        bool? kickUnits = report.Kicks is not null
            ? report.KickAblation is { } a && a.IntactRate > 0 && a.PValue < c.Alpha && (a.AblatedRate - a.IntactRate) / a.IntactRate <= -c.MinEffect
            : null;
        bool? kickDirections = report.Kicks is null ? null : report.KickDirection is { } d
            ? d.PValue < c.Alpha && d.RelativeChange <= -c.MinEffect
              && (d.IntactRate > 0 ? (d.PrincipalRate - d.IntactRate) / d.IntactRate : 0) > d.RelativeChange / 2
            : false;
        bool? resonant = resonance is { } s ? Math.Abs(s.BestForTransition - s.TrainedSigma) <= c.ResonanceBand * s.TrainedSigma + 1e-12 : null;
        return new ClaimVerdicts(collapse, orbit, rotation, slow, kickUnits, kickDirections, resonant);
    }

    private static bool SlowRegions(ResidencySection r, ClaimCriteria c)
    {
        int slowIndex = (int)ResidencyClass.SlowCluster, transition = (int)ResidencyClass.Transition;
        var withSlow = r.SlowBySymbol.Count(x => x > 0);
        var needed = Math.Min(c.MinSlowSymbols, Math.Max(1, r.SlowBySymbol.Length));
        // Fast transitions exist and are no more stable than the slow clusters (trained faithful networks often have no
        // unstable direction in either: 0 against 0 is "as unstable", not a failure).
        return r.Shares[slowIndex] >= c.MinSlowShare && withSlow >= needed && r.Shares[transition] > 0
               && r.MeanUnstable[transition] >= r.MeanUnstable[slowIndex];
    }
}
