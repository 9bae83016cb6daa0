using System.Collections.Immutable;
using HmmRnn.Analysis.HmmEmulation;
using HmmRnn.Core;
using HmmRnn.Core.HiddenMarkov;

namespace HmmRnn.Properties;

/// <summary>Dwell times, same-output-at-lag and the emulation verdicts on sequences whose answers are counted by hand.</summary>
public class EmpiricalStatisticsTests
{
    private static ImmutableArray<int> S(params int[] symbols) => [.. symbols];

    [Fact]
    public void Dwell_times_count_complete_runs_and_leave_out_runs_touching_either_end()
    {
        // Runs by hand (c = censored: touches an end of its sequence, left out), maxLength 4:
        //   0 0 | 1 1 1 1 | 0 | 2 2 | 0 0   → 00 c, 1111: symbol 1 length 4, 0: symbol 0 length 1, 22: symbol 2 length 2, 00 c
        //   1 1 1 1 1                       → one run touching both ends: nothing
        //   2 | 0 0 0 0 0 0 | 1             → 2 c, 000000: symbol 0 length 6, counted at maxLength 4, 1 c
        //   0 | 1 | 0 | 1                   → 0 c, 1: symbol 1 length 1, 0: symbol 0 length 1, 1 c
        //   2                               → c;  (empty)  → nothing
        var sequences = new[] { S(0, 0, 1, 1, 1, 1, 0, 2, 2, 0, 0), S(1, 1, 1, 1, 1), S(2, 0, 0, 0, 0, 0, 0, 1), S(0, 1, 0, 1), S(2), S() };
        var counts = EmpiricalStatistics.DwellTimes(sequences, symbols: 3, maxLength: 4);
        Assert.Equal(3, counts.Length);
        Assert.Equal([0.0, 2, 0, 0, 1], counts[0]); // index = run length; index 0 is unused
        Assert.Equal([0.0, 1, 0, 0, 1], counts[1]);
        Assert.Equal([0.0, 0, 1, 0, 0], counts[2]);
        // Means by hand: symbol 0 (1 + 1 + 4)/3 = 2, symbol 1 (1 + 4)/2 = 2.5, symbol 2: 2.
        Assert.Equal(2.0, EmpiricalStatistics.MeanDwell(counts[0]), 12);
        Assert.Equal(2.5, EmpiricalStatistics.MeanDwell(counts[1]), 12);
        Assert.Equal(2.0, EmpiricalStatistics.MeanDwell(counts[2]), 12);
    }

    [Fact]
    public void Mean_dwell_weighs_each_length_by_its_count_and_ignores_index_zero()
    {
        // (1·3 + 2·1 + 4·2)/(3 + 1 + 2) = 13/6; index 0 holds no run length and must not count.
        Assert.Equal(13.0 / 6, EmpiricalStatistics.MeanDwell([7, 3, 1, 0, 2]), 12);
        Assert.Equal(1.0, EmpiricalStatistics.MeanDwell([5, 1]), 12);
        Assert.True(double.IsNaN(EmpiricalStatistics.MeanDwell([4, 0, 0])));
        Assert.True(double.IsNaN(EmpiricalStatistics.MeanDwell([])));
    }

    [Fact]
    public void Same_output_at_lag_pools_pairs_over_sequences()
    {
        // Pairs (o_t, o_{t+k}) by hand in 0 0 1 0 and 1 1 1:
        //   k = 1: (0,0) (0,1) (1,0) | (1,1) (1,1)  → 3 same of 5
        //   k = 2: (0,1) (0,0)       | (1,1)        → 2 of 3
        //   k = 3: (0,0)             | none         → 1 of 1
        //   k = 4: none                             → NaN
        var p = EmpiricalStatistics.SameOutputAtLag([S(0, 0, 1, 0), S(1, 1, 1)], maxLag: 4);
        Assert.Equal(4, p.Length);
        Assert.Equal(3.0 / 5, p[0], 12);
        Assert.Equal(2.0 / 3, p[1], 12);
        Assert.Equal(1.0, p[2], 12);
        Assert.True(double.IsNaN(p[3]));
    }

    /// <summary>Three states, three symbols: stay 0.8, own symbol 0.95 — mean dwell ≈ 3.5 steps, stationary frequencies ⅓ by symmetry.</summary>
    private static readonly Hmm Sticky = HmmCatalogue.FullyConnected(3, stay: 0.8, ownSymbol: 0.95);

    private const int Sequences = 200, Length = 50;

    private static IReadOnlyList<ImmutableArray<int>> HmmSample(Rng rng) => HmmSampling.Sample(Sticky, Sequences, Length, rng).Outputs;

    [Fact]
    public void An_HMM_sample_in_the_RNNs_place_meets_the_transition_goal_with_its_frequencies()
    {
        var root = Rng.FromSeed(21);
        var rnn = HmmSample(root.Substream(0));
        var m = Emulation.Compare(Sticky, rnn, HmmSample(root.Substream(1)), HmmSample(root.Substream(2)));
        Assert.True(m.Verdicts.Transition, $"transition error {m.TransitionError}");
        // Frequencies: counted here directly, and near the stationary ⅓ (symmetry of the matrices). The
        // symbol sequence's autocorrelation (state eigenvalue 0.8 − 0.1 = 0.7) inflates the variance of a
        // frequency over 10,000 steps by ≈ (1 + 0.7)/(1 − 0.7): standard error ≈ √(2/9 · 5.7/10⁴) ≈ 0.011; ±0.05 is 4.5 of them.
        for (int v = 0; v < 3; v++)
        {
            var counted = rnn.Sum(s => s.Count(o => o == v)) / (double)(Sequences * Length);
            Assert.Equal(counted, m.RnnFrequencies[v], 12);
            Assert.Equal(1.0 / 3, m.ExactFrequencies[v], 12);
            Assert.Equal(1.0 / 3, m.RnnFrequencies[v], 0.05);
        }
        Assert.True(m.Verdicts.Dwell, $"mean dwell {string.Join(", ", m.RnnMeanDwell)} against {string.Join(", ", m.HmmMeanDwell)}");
    }

    [Fact]
    public void IID_symbols_with_the_HMMs_frequencies_fail_the_dwell_goal()
    {
        // i.i.d. draws with the same (⅓) frequencies: complete runs are geometric with mean 1/(1 − ⅓) = 1.5,
        // against ≈ 3.5 for the sticky HMM, so the dwell verdict must be false (and the transition one too).
        var root = Rng.FromSeed(22);
        var rng = root.Substream(0);
        var frequencies = ProbabilityVector.Uniform(3);
        var iid = new List<ImmutableArray<int>>();
        for (int n = 0; n < Sequences; n++)
        {
            var s = new int[Length];
            for (int t = 0; t < Length; t++) (s[t], rng) = rng.NextCategorical(frequencies);
            iid.Add([.. s]);
        }
        var m = Emulation.Compare(Sticky, iid, HmmSample(root.Substream(1)), HmmSample(root.Substream(2)));
        Assert.False(m.Verdicts.Dwell, $"mean dwell {string.Join(", ", m.RnnMeanDwell)} against {string.Join(", ", m.HmmMeanDwell)}");
        Assert.False(m.Verdicts.Transition);
        for (int v = 0; v < 3; v++)
        {
            Assert.Equal(1.5, m.RnnMeanDwell[v], 0.1);
            Assert.Equal(1.0 / 3, m.RnnFrequencies[v], 0.05);
        }
    }
}
