using HmmRnn.Analysis.HmmEmulation;
using HmmRnn.Core;
using HmmRnn.Core.Rnn;

namespace HmmRnn.Properties;

/// <summary>How the HMM network analysis treats a network that is unstable over long horizons.</summary>
public class HmmNetworkAnalysisTests
{
    /// <summary>W_hh = 1.5·I on 3 units driven by noise: activity grows like 1.5^t.</summary>
    private static ReluRnnWeights Growing()
    {
        float[] rec = [1.5f, 0, 0, 0, 1.5f, 0, 0, 0, 1.5f];
        float[] inp = [1, 0, 0, 1, 1, 1];
        float[] readout = [1, 0, 0, 0, 1, 0, 0, 0, 1];
        return new ReluRnnWeights(3, 2, 3, [.. inp], [.. rec], [.. readout]);
    }

    [Fact]
    public void A_long_run_that_diverges_falls_back_to_episodes_of_the_training_length()
    {
        var options = new HmmAnalysisOptions(Steps: 3_000, DecayStarts: 5, DecaySteps: 20, ResidencyStates: 20, Patterns: 5);
        var r = HmmNetworkAnalysis.Run(Growing(), 3, 30, Rng.FromSeed(1), options);
        Assert.Equal(30, r.EpisodeLength);
        // 1.5^t passes the divergence bound 1e100 at t = 100 / log10(1.5) ≈ 568 (the noise adds a factor of a few, so a
        // few steps earlier). Bug caught: testing only for infinity, which a double reaches near t ≈ 1,750, after the
        // states' squares have overflowed and PCA has crashed (seen on an unstable |h| = 8 network).
        Assert.InRange(r.DivergedAt, 540, 590); // the step counts the 20 warm-up steps
        Assert.All(r.States, s => Assert.True(s.All(double.IsFinite)));
        Assert.Equal(3_000, r.States.Length);
    }

    [Fact]
    public void Without_a_training_length_to_fall_back_to_the_divergence_is_one_clear_error()
    {
        var options = new HmmAnalysisOptions(Steps: 3_000, DecayStarts: 5, DecaySteps: 20, ResidencyStates: 20, Patterns: 5);
        var e = Assert.Throws<ArgumentException>(() => HmmNetworkAnalysis.Run(Growing(), 3, 0, Rng.FromSeed(1), options));
        Assert.Contains("diverges under noise", e.Message);
        // Chosen episodes short enough stay finite: no fallback, no divergence recorded.
        var r = HmmNetworkAnalysis.Run(Growing(), 3, 0, Rng.FromSeed(1), options with { EpisodeLength = 50 });
        Assert.Equal((50, -1), (r.EpisodeLength, r.DivergedAt));
    }
}
