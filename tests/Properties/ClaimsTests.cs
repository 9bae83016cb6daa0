using System.Collections.Immutable;
using HmmRnn.Analysis.HmmEmulation;
using HmmRnn.Core;
using HmmRnn.Core.Rnn;

namespace HmmRnn.Properties;

/// <summary>The claim verdicts (issue 19's claims table) on networks whose answers are known by construction.</summary>
public class ClaimsTests
{
    /// <summary>
    /// The planted-kick network: without noise the pools decay (g = 0.9 &lt; 1, and the rectifiers that hold them up read
    /// only noise), so activity collapses to the origin; its two kick units are found and silencing them stops switching;
    /// its two pools are two slow clusters. Bugs caught: a verdict read from the wrong analysis (e.g. kick units from the
    /// direction test), the collapse required to have a fixed ray.
    /// </summary>
    [Fact]
    public void The_planted_network_collapses_has_kick_units_and_slow_regions()
    {
        var options = new HmmAnalysisOptions(Steps: 10_000, DecayStarts: 20, DecaySteps: 300, ResidencyStates: 200, Patterns: 50);
        var report = HmmNetworkAnalysis.Run(PlantedKickNetwork.Build(), 2, 0, Rng.FromSeed(11), options);
        var v = Claims.Score(report, null);
        Assert.True(v.Collapse, "collapse");
        Assert.True(v.KickUnits, $"kick units: {report.KickAblation}");
        Assert.True(v.SlowRegions, $"slow regions: shares {string.Join(", ", report.Residency!.Shares)}, per symbol {string.Join(", ", report.Residency.SlowBySymbol)}");
        Assert.Null(v.Resonance);
        Assert.DoesNotContain("claimResonance", v.ToMetrics().Keys);
    }

    /// <summary>A network whose activity grows (W = 1.5·I) does not collapse, and its orbit claim falls with it.</summary>
    [Fact]
    public void A_growing_network_does_not_collapse()
    {
        float[] rec = [1.5f, 0, 0, 0, 1.5f, 0, 0, 0, 1.5f];
        var w = new ReluRnnWeights(3, 2, 3, [1, 0, 0, 1, 1, 1], [.. rec], [1, 0, 0, 0, 1, 0, 0, 0, 1]);
        var options = new HmmAnalysisOptions(Steps: 3_000, DecayStarts: 5, DecaySteps: 20, ResidencyStates: 20, Patterns: 5);
        var v = Claims.Score(HmmNetworkAnalysis.Run(w, 3, 30, Rng.FromSeed(1), options), null);
        Assert.False(v.Collapse);
        Assert.False(v.Orbit);
    }

    /// <summary>The resonance band by hand: trained σ = 1, band 25%: best at 0.75, 1 or 1.25 holds; 0.5 and 1.5 do not.</summary>
    [Theory]
    [InlineData(0.75, true)]
    [InlineData(1.0, true)]
    [InlineData(1.25, true)]
    [InlineData(0.5, false)]
    [InlineData(1.5, false)]
    public void Resonance_holds_within_the_band_of_the_trained_noise(double best, bool holds)
    {
        float[] rec = [0.5f, 0, 0, 0.5f];
        var w = new ReluRnnWeights(2, 2, 2, [1, 0, 0, 1], [.. rec], [1, 0, 0, 1]);
        var options = new HmmAnalysisOptions(Steps: 500, DecayStarts: 5, DecaySteps: 50, ResidencyStates: 10, Patterns: 5, Analyses: HmmAnalyses.None);
        var report = HmmNetworkAnalysis.Run(w, 2, 10, Rng.FromSeed(1), options);
        var curve = new ResonanceCurve([], 1.0, best, best);
        Assert.Equal(holds, Claims.Score(report, curve).Resonance);
        Assert.Null(Claims.Score(report, curve).Collapse); // the fixed-point analysis did not run
    }
}
