using System.Collections.Immutable;
using HmmRnn.Analysis.HmmEmulation;
using HmmRnn.Analysis.Numerics;
using HmmRnn.Core;
using HmmRnn.Core.HiddenMarkov;
using HmmRnn.Core.Rnn;

namespace HmmRnn.Properties;

/// <summary>Decoding the HMM's beliefs from hidden states (<see cref="BeliefDecoding"/>): the regression against OLS, and a network that provably carries no memory.</summary>
public class BeliefDecodingTests
{
    // Bug caught: the intercept penalised or dropped, SSE and SST swapped, the test split's own mean used (which flatters a bad
    // decoder): with λ = 0 and the test rows equal to the training rows, the held-out R² must be ordinary least squares' R² —
    // computed here by LinearFit's closed form, an independent implementation.
    [Fact]
    public void With_no_penalty_on_the_training_rows_the_score_is_ordinary_least_squares_R2()
    {
        var rng = Rng.FromSeed(2);
        var x = new double[200];
        var y = new double[200];
        for (int i = 0; i < x.Length; i++)
        {
            (x[i], rng) = rng.NextNormal();
            (var e, rng) = rng.NextNormal();
            y[i] = 0.7 * x[i] - 2 + e;
        }
        var rows = x.Select(v => new[] { v }).ToArray();
        var targets = y.Select(v => new[] { v }).ToArray();
        Assert.Equal(LinearFit.Fit(x, y).RSquared, BeliefDecoding.HeldOutRSquared(rows, targets, rows, targets, 0), 9);
        // Exactly linear targets in two components decode perfectly on other rows; unrelated ones not at all.
        var other = rows.Reverse().Select(r => new[] { r[0] + 1 }).ToArray();
        Assert.Equal(1, BeliefDecoding.HeldOutRSquared(rows, rows.Select(r => new[] { 3 * r[0] + 1, -r[0] }).ToArray(), other,
            other.Select(r => new[] { 3 * r[0] + 1, -r[0] }).ToArray(), 0), 9);
    }

    // Bug caught: a decoder fitted on the test sequences, states paired with another step's belief (a one-step shift: caught, R²
    // 0.39 → 0.00), or the shuffled baseline not shuffled. A network with no recurrence (W_hh = 0: h_t = ReLU(2 x_t), the
    // output sampled from 2 h_t) emits i.i.d. symbols, so its state knows nothing of the past that its current output does not
    // show: decoding the filtered belief of a sticky HMM from h_t cannot beat decoding it from the current output alone.
    [Fact]
    public void A_network_without_memory_carries_no_more_belief_than_its_current_output()
    {
        const int n = 3;
        var identity = ImmutableArray.CreateRange(Enumerable.Range(0, n * n).Select(i => i % (n + 1) == 0 ? 2f : 0f));
        var weights = new ReluRnnWeights(n, n, n, identity, ImmutableArray.CreateRange(new float[n * n]), identity);
        var report = BeliefDecoding.Run(weights, HmmCatalogue.Named("fully3").Hmm, 200, 30, Rng.FromSeed(4));
        Assert.InRange(report.Filtered.LastSymbolRSquared, 0.5, 1);
        Assert.True(report.Filtered.JointRSquared <= report.Filtered.LastSymbolRSquared + 0.02, $"{report.Filtered}");
        Assert.True(report.Smoothed.JointRSquared <= report.Smoothed.LastSymbolRSquared + 0.02, $"{report.Smoothed}");
        Assert.True(report.Filtered.RSquared <= report.Filtered.LastSymbolRSquared + 0.02, $"{report.Filtered}");
        Assert.InRange(report.Filtered.ShuffledRSquared, -1, 0.02);
        // And it does carry its current output (0.39 here): states paired with the beliefs of another step (a one-step shift) decode ≈ 0.
        Assert.InRange(report.Filtered.RSquared, 0.2, 1);
        Assert.Equal((3, 3, 100), (report.Filtered.Components, report.Predictive.Components, report.TrainSequences));
    }
}
