using System.Collections.Immutable;
using HmmRnn.Analysis.Dynamics;
using HmmRnn.Core;

namespace HmmRnn.Properties;

/// <summary>The kick direction (issue 19 item 2): its classes counted by hand, and its test on the planted-kick network.</summary>
public class KickDirectionTests
{
    /// <summary>
    /// Symbols 0×5, 1×2, 0×4, then 1 to the end. MinDwell 4, Window 2: the run of five 0s (steps 0–4) exits to 1 at step 5;
    /// the run of two 1s is too short; the four 0s (steps 7–10) exit at 11; the last run is cut off by the end, not an exit.
    /// Bugs caught: a censored last run counted as an exit, a run of MinDwell − 1 counted, the exit step off by one.
    /// </summary>
    [Fact]
    public void Exits_are_the_hand_counted_ones()
    {
        int[] symbols = [0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
        var exits = KickUnits.Exits(symbols, new KickOptions(MinDwell: 4, Window: 2));
        Assert.Equal([new KickUnits.Exit(0, 1, 0, 5), new KickUnits.Exit(0, 1, 7, 11)], exits);
    }

    /// <summary>
    /// In the planted network (two pools, kick unit 12 lights pool B from A, unit 13 pool A from B) each kind of transition's
    /// direction lies on its own kick unit, and projecting their span out stops most switching where random subspaces of the
    /// same dimension (orthogonal to the readout, as the directions are) do not. Bugs caught: exit states taken after the
    /// exit instead of before, a projector that leaves the state unchanged (ablated = intact, p ≈ 1): both seen red.
    /// </summary>
    [Fact]
    public void On_the_planted_network_each_direction_lies_on_its_kick_unit_and_removing_them_stops_switching()
    {
        var w = PlantedKickNetwork.Build();
        var (states, symbols) = PlantedKickNetwork.Run(w, 10_000, Rng.FromSeed(11));
        var r = KickDirection.Test(w, states, symbols, 5_000, 1.0, 49, Rng.FromSeed(12));
        Assert.NotNull(r);
        Assert.Equal([(0, 1), (1, 0)], r.Directions.Select(d => (d.From, d.To)));
        Assert.All(r.Directions, d => Assert.True(d.Exits >= 50, $"{d.Exits} exits {d.From}→{d.To}"));
        int Largest(TransitionDirection d) => d.Direction.Select((v, i) => (Math.Abs(v), i)).MaxBy(x => x.Item1).i;
        Assert.Equal(PlantedKickNetwork.KickAB, Largest(r.Directions[0]));
        Assert.Equal(PlantedKickNetwork.KickBA, Largest(r.Directions[1]));
        Assert.All(r.Directions, d => Assert.True(d.Separation > 1, $"separation {d.Separation}"));
        Assert.Equal(2, r.Dimension);
        Assert.True(r.RelativeChange < -0.5, $"relative change {r.RelativeChange}: {r.IntactRate} → {r.AblatedRate}");
        Assert.True(r.PValue < 0.05, $"p = {r.PValue}; random {string.Join(" ", r.RandomRates.Order().Select(x => x.ToString("F4")))}");
    }

    /// <summary>
    /// A 5-unit network with two noisy winner-take-all pools (units 0 and 1, read out as the two symbols) has room for no
    /// control subspace (5 units − 2 readout directions − 2 kick directions &lt; 2): the test still runs, reports no random
    /// rates and p = NaN instead of drawing controls that overlap what they control. Bug caught: controls drawn anyway (from
    /// what rounding leaves after the projections; seen red with the guard removed).
    /// </summary>
    [Fact]
    public void A_network_too_small_for_controls_reports_no_p_value()
    {
        float[] rec = [0.9f, -0.6f, 0, 0, 0, -0.6f, 0.9f, 0, 0, 0, 0.2f, 0, 0.5f, 0, 0, 0, 0.2f, 0, 0.5f, 0, 0.1f, 0.1f, 0, 0, 0.3f];
        float[] inp = [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        var w = new HmmRnn.Core.Rnn.ReluRnnWeights(5, 3, 2, [.. inp], [.. rec], [1, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
        var (states, symbols) = PlantedKickNetwork.Run(w, 5_000, Rng.FromSeed(3));
        var r = KickDirection.Test(w, states, symbols, 2_000, 1.0, 19, Rng.FromSeed(4), new KickOptions(MinDwell: 4, Window: 2));
        Assert.NotNull(r);
        Assert.Equal(2, r.Dimension);
        Assert.Empty(r.RandomRates);
        Assert.True(double.IsNaN(r.PValue));
        Assert.True(double.IsFinite(r.AblatedRate) && double.IsFinite(r.PrincipalRate));
    }
}
