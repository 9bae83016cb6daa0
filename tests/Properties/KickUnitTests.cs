using System.Collections.Immutable;
using HmmRnn.Analysis.Dynamics;
using HmmRnn.Core;
using HmmRnn.Core.Rnn;

namespace HmmRnn.Properties;

/// <summary>The kick-unit detector on a run with planted kick units, and the ablation statistic's bookkeeping.</summary>
public class KickUnitTests
{
    /// <summary>
    /// Six units, two symbols read by units 0 and 1. Unit 2 pushes toward symbol 1 (W[1,2] = 1, W[0,2] = −1) and
    /// fires just before every 0 → 1 change; unit 3 mirrors it for 1 → 0. Unit 4 fires before 0 → 1 too but
    /// pushes the other way (a decoy); unit 5 is noise.
    /// </summary>
    private static (ReluRnnWeights W, ImmutableArray<double>[] States, int[] Symbols) Planted()
    {
        const int H = 6;
        var rec = new float[H * H];
        void Set(int to, int from, float v) => rec[to * H + from] = v;
        Set(1, 2, 1); Set(0, 2, -1);
        Set(0, 3, 1); Set(1, 3, -1);
        Set(0, 4, 1); Set(1, 4, -1);
        var readout = new float[2 * H];
        readout[0 * H + 0] = 1;
        readout[1 * H + 1] = 1;
        var w = new ReluRnnWeights(H, 1, 2, [.. new float[H]], [.. rec], [.. readout]);

        var rng = new RngStream(Rng.FromSeed(5));
        var states = new List<ImmutableArray<double>>();
        var symbols = new List<int>();
        for (int block = 0; block < 20; block++)
        {
            int symbol = block % 2;
            for (int t = 0; t < 12; t++)
            {
                var h = new double[H];
                for (int i = 0; i < H; i++) h[i] = 0.5 + 0.2 * rng.Normal();
                h[symbol] = 2;
                bool last2 = t >= 10;
                if (last2 && symbol == 0) { h[2] = 5; h[4] = 5; }
                if (last2 && symbol == 1) h[3] = 5;
                states.Add([.. h]);
                symbols.Add(symbol);
            }
        }
        return (w, [.. states], [.. symbols]);
    }

    [Fact]
    public void Detect_finds_the_planted_kick_units_and_not_the_decoy()
    {
        var (w, states, symbols) = Planted();
        var d = KickUnits.Detect(w, states, symbols, new KickOptions(MinDwell: 8, Window: 2, MinRise: 1.0, MaxFraction: 0.5));
        Assert.Equal(19, d.Transitions);
        Assert.Equal([2, 3], d.Units.Order());
        Assert.Contains(d.Kicks, k => k is { Unit: 2, From: 0, To: 1 } && k.Push == 2);
        Assert.Contains(d.Kicks, k => k is { Unit: 3, From: 1, To: 0 } && k.Push == 2);
        Assert.DoesNotContain(d.Kicks, k => k.Unit == 4); // rises before 0 → 1 but pushes toward 0 (push −2)
        // A window that misses the firing steps (MinDwell longer than any run) finds nothing.
        Assert.Empty(KickUnits.Detect(w, states, symbols, new KickOptions(MinDwell: 13)).Units);
    }

    [Fact]
    public void Ablating_no_unit_leaves_the_rate_and_the_p_value_is_a_rank()
    {
        var (rec, inp, readout) = (new double[64], new double[24], new double[24]);
        Rng.FromSeed(2).FillNormal(rec).FillNormal(inp).FillNormal(readout);
        var w = new ReluRnnWeights(8, 3, 3, [.. inp.Select(x => (float)x)], [.. rec.Select(x => (float)(x / 3))], [.. readout.Select(x => (float)x)]);
        var none = KickUnits.Ablate(w, [], 300, 1.0, 19, Rng.FromSeed(3));
        Assert.Equal(none.IntactRate, none.AblatedRate);
        // Every random set is empty too: all 19 rates equal the ablated one, so p = (1 + 19) / (1 + 19) = 1.
        Assert.Equal(1.0, none.PValue);
        var all = KickUnits.Ablate(w, [.. Enumerable.Range(0, 8)], 300, 1.0, 9, Rng.FromSeed(3));
        Assert.Equal(0.0, all.AblatedRate); // silencing every unit: logits 0, argmax always symbol 0, no change
        Assert.Equal(1.0, all.PValue);      // random sets of 8 of 8 units are the same set
    }
}
