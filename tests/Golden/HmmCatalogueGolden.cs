using HmmRnn.Core.HiddenMarkov;

namespace HmmRnn.Golden;

/// <summary>
/// Ground-truth output statistics of the six HMMs of Torre et al. (NeurIPS 2025), derived by Core's
/// analytic functions and compared with the values published for them.
/// Source of every expected value: shared/SPEC.md §A1 (paper-derived; printed to 3–4 digits), each
/// re-derived by hand from the matrices of §3.1 / App. A. Tolerance: half a unit in the last printed digit.
/// </summary>
public class HmmCatalogueGolden
{
    private static void Near(double expected, double actual, int digits, string what) =>
        Assert.True(Math.Abs(expected - actual) <= 0.5 * Math.Pow(10, -digits) + 1e-12,
            $"{what}: expected {expected} (to {digits} digits), got {actual:G10}");

    // SPEC A1: P(next output = same end symbol | end symbol). Linear chain M = 2: 0.95 · 0.99 = 0.9405.
    [Theory]
    [InlineData("linear2", 0.9405)]
    [InlineData("linear3", 0.7512)]
    [InlineData("linear4", 0.7092)]
    [InlineData("linear5", 0.6957)]
    public void Linear_chain_end_symbol_persistence(string name, double expected)
    {
        var s = HmmStatistics.Outputs(HmmCatalogue.Named(name).Hmm);
        Near(expected, s.Transition[0, 0], 4, $"{name} P(o'=0|o=0)");
        Near(expected, s.Transition[2, 2], 4, $"{name} P(o'=2|o=2)");
        // SPEC A1: linear-chain output frequencies [0.495, 0.01, 0.495] (= 0.99/2, 0.01, 0.99/2).
        Near(0.495, s.Frequencies[0], 3, $"{name} P(o=0)");
        Near(0.01, s.Frequencies[1], 2, $"{name} P(o=1)");
        Near(0.495, s.Frequencies[2], 3, $"{name} P(o=2)");
    }

    [Fact]
    public void Linear2_change_probability()
    {
        // SPEC A1: P(output changes) ≈ 0.0688 for M = 2 (1 − 2·0.495·0.9405 − 0.01²).
        Near(0.0688, HmmStatistics.Outputs(HmmCatalogue.Named("linear2").Hmm).ChangeProbability, 4, "linear2 P(change)");
    }

    [Fact]
    public void Fully_connected_diagonal()
    {
        // SPEC A1: fully connected diagonal ≈ 0.9136; by symmetry frequencies are 1/3 each.
        var s = HmmStatistics.Outputs(HmmCatalogue.Named("fully3").Hmm);
        for (int i = 0; i < 3; i++)
        {
            Near(0.9136, s.Transition[i, i], 4, $"fully3 P(o'={i}|o={i})");
            Near(1.0 / 3, s.Frequencies[i], 12, $"fully3 P(o={i})");
        }
    }

    [Fact]
    public void Cyclic_frequencies_and_diagonal()
    {
        // SPEC A1: cyclic output frequencies [0.25, 0.5, 0.25], diagonal ≈ [0.7835, 0.788, 0.7835].
        var s = HmmStatistics.Outputs(HmmCatalogue.Named("cyclic4").Hmm);
        Near(0.25, s.Frequencies[0], 12, "cyclic4 P(o=0)");
        Near(0.5, s.Frequencies[1], 12, "cyclic4 P(o=1)");
        Near(0.25, s.Frequencies[2], 12, "cyclic4 P(o=2)");
        Near(0.7835, s.Transition[0, 0], 4, "cyclic4 P(0|0)");
        Near(0.788, s.Transition[1, 1], 3, "cyclic4 P(1|1)");
        Near(0.7835, s.Transition[2, 2], 4, "cyclic4 P(2|2)");
    }

    [Fact]
    public void Catalogue_matches_the_paper_matrices_and_lengths()
    {
        // Paper §3.1: T = 100 (M=2), 30 (M=3, 4), 40 (M=5), 30 (fully connected), 40 (cyclic).
        var lengths = HmmCatalogue.Paper.ToDictionary(e => e.Name, e => e.SequenceLength);
        Assert.Equal(new Dictionary<string, int>
        {
            ["linear2"] = 100, ["linear3"] = 30, ["linear4"] = 30, ["linear5"] = 40, ["fully3"] = 30, ["cyclic4"] = 40,
        }, lengths);
        // Linear chain M = 3: q = 0.05^(1/2) ≈ 0.2236; interior state stays with 1 − 2q ≈ 0.5528.
        var m3 = HmmCatalogue.LinearChain(3).Transition;
        Near(Math.Sqrt(0.05), m3[0, 1], 12, "linear3 q");
        Near(1 - 2 * Math.Sqrt(0.05), m3[1, 1], 12, "linear3 interior stay");
        Assert.Equal(0.0, m3[0, 2]);
        // Cyclic: 0 to the opposite state.
        Assert.Equal(0.0, HmmCatalogue.Cyclic4().Transition[0, 2]);
        // Every paper model starts from a stationary (uniform) law: doubly stochastic transitions.
        foreach (var e in HmmCatalogue.Paper)
        {
            var pi = HmmStatistics.Stationary(e.Hmm);
            for (int k = 0; k < e.Hmm.States; k++) Near(1.0 / e.Hmm.States, pi[k], 12, $"{e.Name} π[{k}]");
        }
    }
}
