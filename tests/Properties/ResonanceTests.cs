using System.Collections.Immutable;
using HmmRnn.Analysis.HmmEmulation;
using HmmRnn.Core;
using HmmRnn.Core.HiddenMarkov;
using HmmRnn.Core.Rnn;

namespace HmmRnn.Properties;

/// <summary>The stochastic-resonance measurements, on sequences whose statistics are counted by hand.</summary>
public class ResonanceTests
{
    [Fact]
    public void Measure_counts_frequencies_transitions_and_dwell_times_as_by_hand()
    {
        // A 2-state, 2-symbol HMM that is i.i.d. fair coin flips: exact frequencies (½, ½), every transition ½.
        var hmm = new Hmm(ProbabilityVector.Create(0.5, 0.5), StochasticMatrix.FromRows([[0.5, 0.5], [0.5, 0.5]]),
            StochasticMatrix.FromRows([[1.0, 0.0], [0.0, 1.0]]));
        // RNN: always 0 0 1 1 (pairs 00, 01, 11): frequencies (½, ½); P(0|0) = P(1|0) = ½, P(1|1) = 1 → squared error ¼ + ¼ = ½.
        ImmutableArray<int>[] rnn = [[0, 0, 1, 1], [0, 0, 1, 1]];
        // HMM sample: 0 1 0 1 — every interior run has length 1.
        ImmutableArray<int>[] sample = [[0, 1, 0, 1]];
        var p = Resonance.Measure(hmm, 0.5, rnn, sample);
        Assert.Equal(0.5, p.Sigma);
        Assert.Equal(0.0, p.FrequencyError, 12);
        Assert.Equal(0.5, p.TransitionError, 12);
        // Dwell: the RNN's runs all touch an end (censored) → no complete run → distance 1 for each symbol.
        Assert.Equal(1.0, p.DwellDistance, 12);
        // Same sequences on both sides: dwell distance 0.
        Assert.Equal(0.0, Resonance.Measure(hmm, 0, [[1, 0, 0, 1, 1, 0]], [[1, 0, 0, 1, 1, 0]]).DwellDistance, 12);
    }

    [Fact]
    public void Curve_finds_the_lowest_error_and_whether_it_is_above_zero()
    {
        var curve = Resonance.Curve(
        [
            new ResonancePoint(1, 10, 0.01, 0, 0.3), new ResonancePoint(0, 10, 0.2, 0, 0.1), new ResonancePoint(2, 10, 0.05, 0, 0.2),
        ], 1);
        Assert.Equal([0.0, 1.0, 2.0], curve.Points.Select(p => p.Sigma));
        Assert.Equal(1, curve.BestForTransition);
        Assert.Equal(0, curve.BestForDwell);
        Assert.True(curve.OptimumAboveZero);
        Assert.Equal([0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75, 3], Resonance.Sigmas(1, 13, 3).Select(x => Math.Round(x, 12)));
    }

    /// <summary>
    /// A noise-driven bistable emitter, four units, no biases, inputs x ~ N(0, σ² I) on three channels:
    /// units 0 and 1 are ReLU(x₀) and ReLU(−x₀), so their sum |x₀| is a positive drive; units 2 (A) and 3 (B) are a
    /// winner-take-all pair, A' = ReLU(g A − c B + ρ (u₀ + u₁) + ε x₁) and B' likewise with x₂, read out as symbol 0 and
    /// symbol 1 with gain κ = 1 (y = κ (A, B)). The pair sits in one state for long stretches (by arg-max it switches about
    /// 1.5% of steps); the sampled readout flips the symbol when the logit gap κ|A − B| is small against the Gumbel noise.
    /// </summary>
    internal static ReluRnnWeights Bistable(double g = 0.8, double c = 0.5, double rho = 0.5, double epsilon = 0.3, double kappa = 1)
    {
        float[] input =
        [
            1, 0, 0,
            -1, 0, 0,
            0, (float)epsilon, 0,
            0, 0, (float)epsilon,
        ];
        float[] recurrent =
        [
            0, 0, 0, 0,
            0, 0, 0, 0,
            (float)rho, (float)rho, (float)g, (float)-c,
            (float)rho, (float)rho, (float)-c, (float)g,
        ];
        float[] readout = [0, 0, (float)kappa, 0, 0, 0, 0, (float)kappa];
        return new ReluRnnWeights(4, 3, 2, [.. input], [.. recurrent], [.. readout]);
    }

    /// <summary>
    /// The expected rate of symbol changes of the sampled readout at σ, in closed form from runs at σ = 1 (episodes of
    /// <paramref name="length"/> steps from h = 0, as emitted): the logits at σ are exactly σ times those at 1 on the same
    /// noise (no biases), so given the run P(o_t = v) = softmax(σ y_t)_v, independently from step to step, and
    /// P(o_t ≠ o_(t+1)) = Σ_v p_t(v) (1 − p_(t+1)(v)), averaged over the pairs within an episode.
    /// </summary>
    private static double ExpectedChangeRate(double[] logitsAtOne, int length, double sigma)
    {
        static double P1(double y0, double y1, double s) => 1 / (1 + Math.Exp(-s * (y1 - y0)));
        int T = logitsAtOne.Length / 2, pairs = 0;
        double total = 0;
        for (int t = 0; t + 1 < T; t++)
        {
            if ((t + 1) % length == 0) continue; // across a restart
            double p = P1(logitsAtOne[2 * t], logitsAtOne[2 * t + 1], sigma), q = P1(logitsAtOne[2 * t + 2], logitsAtOne[2 * t + 3], sigma);
            total += p * (1 - q) + (1 - p) * q;
            pairs++;
        }
        return total / pairs;
    }

    [Fact]
    public void A_bistable_emitter_matches_its_HMM_best_at_the_noise_level_predicted_for_it()
    {
        const double q = 0.15; // the target HMM's switching probability
        const int sequences = 300, length = 100;
        var w = Bistable();
        var hmm = new Hmm(ProbabilityVector.Create(0.5, 0.5), StochasticMatrix.FromRows([[1 - q, q], [q, 1 - q]]),
            StochasticMatrix.FromRows([[1.0, 0.0], [0.0, 1.0]]));

        // σ*: where the sampled readout changes symbol with probability q (bisection on the closed form above, from
        // 500 episodes at σ = 1; the closed form falls from ½ at σ = 0 to the arg-max rate as σ → ∞).
        var logits = new double[500 * length * 2];
        for (int e = 0; e < 500; e++)
        {
            var noise = new double[length * w.Input];
            Rng.FromSeed(21).Substream(e).FillNormal(noise);
            ReluRnn.Run(w, noise).Logits.CopyTo(logits, e * length * 2);
        }
        double lo = 0, hi = 3;
        for (int i = 0; i < 50; i++)
        {
            var mid = (lo + hi) / 2;
            if (ExpectedChangeRate(logits, length, mid) > q) lo = mid; else hi = mid;
        }
        var star = (lo + hi) / 2;

        var rng = Rng.FromSeed(22);
        var points = Resonance.Sigmas(1, 13, 3).Select((sigma, i) =>
        {
            var rnn = Resonance.Emit(w, sequences, length, sigma, rng.Substream(2 * i));
            var sample = HmmSampling.Sample(hmm, sequences, length, rng.Substream(2 * i + 1)).Outputs;
            return Resonance.Measure(hmm, sigma, rnn, sample);
        }).ToArray();
        var curve = Resonance.Curve(points, 1);

        // The construction puts σ* well inside the sweep (0 … 3 in steps of 0.25): r(0) = ½ > q > r(3).
        Assert.InRange(star, 0.5, 2.5);
        // Noise is needed: the best σ is above 0 (catches a curve that takes the largest error, or an emitter whose
        // symbols do not depend on σ — with the arg-max readout every σ > 0 ties and the smallest, 0.25, would win).
        Assert.True(curve.OptimumAboveZero);
        // … and it is where the closed form predicts, within one step of the grid (catches noise scaled by the variance σ²
        // instead of σ: the optimum would move to √σ* ≈ 1.4).
        Assert.InRange(curve.BestForTransition, star - 0.25, star + 0.25);
        var best = curve.Points.Single(p => p.Sigma == curve.BestForTransition).TransitionError;
        // At the optimum the transition matrix matches (sampling error ~1e-4 and grid mismatch ≤ ~0.004; the arg-max
        // readout, which switches 3% of steps at every σ > 0, would be ~0.06 off).
        Assert.True(best < 0.01, $"transition error {best} at the best σ");
        // Too little noise (σ = 0: the logits are 0, the symbols fair coin flips) and too much (σ = 3: the symbol follows
        // the slow arg-max state, too few switches) are both clearly worse.
        Assert.True(curve.Points[0].TransitionError > 10 * best, $"σ = 0: {curve.Points[0].TransitionError} against {best}");
        Assert.True(curve.Points[^1].TransitionError > 10 * best, $"σ = 3: {curve.Points[^1].TransitionError} against {best}");
    }

    [Fact]
    public void Arg_max_emissions_are_the_same_at_every_sigma_above_zero_and_only_sampled_ones_depend_on_it()
    {
        var w = Bistable();
        var rng = Rng.FromSeed(5);
        static int Changes(IEnumerable<ImmutableArray<int>> sequences) => sequences.Sum(s => Enumerable.Range(1, s.Length - 1).Count(t => s[t] != s[t - 1]));
        // No biases: on the same noise the states at σ = 2 are exactly 4 times those at σ = ½ (powers of two scale without
        // rounding), so the arg-max symbols agree everywhere (catches an emitter that adds noise or a bias to the arg-max
        // readout, or scales σ nonlinearly).
        var half = Resonance.Emit(w, 40, 100, 0.5, rng, sample: false);
        var two = Resonance.Emit(w, 40, 100, 2, rng, sample: false);
        Assert.Equal(half.SelectMany(s => s), two.SelectMany(s => s));
        Assert.True(Changes(half) > 0, "the arg-max state never switches");
        Assert.Equal(40, half.Length);
        Assert.All(half, s => Assert.Equal(100, s.Length));
        // σ = 0: h stays 0, the logits tie, the arg-max is symbol 0 throughout.
        Assert.All(Resonance.Emit(w, 5, 100, 0, rng, sample: false), s => Assert.All(s, v => Assert.Equal(0, v)));
        // The sampled readout is sharper at larger σ: far more changes at ½ than at 2 (catches an emitter that ignores
        // σ or does not sample).
        Assert.True(Changes(Resonance.Emit(w, 40, 100, 0.5, rng)) > 2 * Changes(Resonance.Emit(w, 40, 100, 2, rng)));
    }
}
