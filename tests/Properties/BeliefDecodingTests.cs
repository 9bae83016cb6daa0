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

    /// <summary>
    /// The shared scorer (both tasks): a state that is an affine image of the belief (h = M b + c, M of full column rank,
    /// padded with constant units) decodes it with R² ≈ 1 on held-out rows, from the state and jointly; a state of pure noise
    /// decodes nothing (R² within chance, below 0.2); shuffled targets decode nothing either. Bugs caught: the shuffle left out (the shuffled score
    /// then equals the state's, ≈ 1; seen red), the joint features built from the baseline alone (joint ≈ 0).
    /// </summary>
    [Fact]
    public void An_affine_image_of_the_belief_decodes_it_and_noise_does_not()
    {
        var rng = new RngStream(Rng.FromSeed(4));
        List<double[]> Beliefs(int n) => [.. Enumerable.Range(0, n).Select(_ => { var a = rng.Uniform(); var b = rng.Uniform() * (1 - a); return new[] { a, b, 1 - a - b }; })];
        double[] Affine(double[] b) => [2 * b[0] - b[1] + 0.3, b[1] + 4 * b[2] - 1, -b[0] + 0.5 * b[2], 7.0, b[0] + b[1] + 0.1 * b[2]];
        double[] Noise(double[] _) => [rng.Normal(), rng.Normal(), rng.Normal(), rng.Normal(), rng.Normal()];
        var train = Beliefs(300);
        var test = Beliefs(300);
        IReadOnlyList<double[]>[] Of(Func<double[], double[]> f) => [train.Select(f).ToList(), test.Select(f).ToList()];
        IReadOnlyList<double[]>[] target = [train, test];
        var baseline = Of(_ => new[] { 1.0 });

        var affine = BeliefDecoding.Score(Of(Affine), baseline, target, 1e-9, Rng.FromSeed(1));
        Assert.InRange(affine.RSquared, 0.999, 1.0);
        Assert.InRange(affine.JointRSquared, 0.999, 1.0);
        Assert.InRange(affine.LastSymbolRSquared, -0.05, 0.0 + 1e-9); // a constant baseline: the training mean, no better
        // Chance: with 300 rows a decoder of unrelated targets scores within about ±0.15 of 0 (NumPy, 20 shuffles: −0.19 … 0.10;
        // here 6 shuffles: −0.04 … 0.14).
        var shuffled = Enumerable.Range(1, 6).Select(k => BeliefDecoding.Score(Of(Affine), baseline, target, 1e-9, Rng.FromSeed(k)).ShuffledRSquared).ToList();
        Assert.True(shuffled.All(x => x < 0.2), string.Join(" ", shuffled));
        Assert.Equal(3, affine.Components);

        var noise = BeliefDecoding.Score(Of(Noise), baseline, target, 1e-9, Rng.FromSeed(1));
        Assert.InRange(noise.RSquared, -0.3, 0.2);
    }
}
