using System.Collections.Immutable;
using System.Numerics;
using HmmRnn.Analysis.Numerics;
using HmmRnn.Analysis.Dynamics;
using HmmRnn.Core;
using HmmRnn.Core.Rnn;
using MathNet.Numerics.LinearAlgebra;

namespace HmmRnn.Properties;

/// <summary>
/// Orbit phase, noise-free decay and gain modulation (issue 9 items 3 and 7), each against a closed form or a brute-force
/// re-computation that shares no code with the analysis.
/// </summary>
public class OrbitAndGainTests
{
    private static ImmutableArray<float> F(IEnumerable<double> a) => [.. a.Select(x => (float)x)];

    /// <summary>
    /// W_hh = a·I with a start h_0 &gt; 0 stays positive, so ‖h_t‖ = aᵗ ‖h_0‖ and the first t with aᵗ ≤ tol is
    /// ⌈ln tol / ln a⌉: 7 for a = 0.5, tol = 1% (0.5⁶ = 0.0156, 0.5⁷ = 0.0078), 4 for tol = 10%, 21 for a = 0.8, tol = 1%
    /// (0.8²⁰ = 0.0115, 0.8²¹ = 0.0092). With a = 1 nothing decays.
    /// Bugs caught: counting from 1, a strict inequality, a norm of the final state instead of the first below the bound.
    /// </summary>
    [Theory]
    [InlineData(0.5, 0.01, 7)]
    [InlineData(0.5, 0.1, 4)]
    [InlineData(0.8, 0.01, 21)]
    [InlineData(1.0, 0.01, -1)]
    public void Decay_steps_follow_the_closed_form_of_a_scaled_identity(double a, double tolerance, int expected)
    {
        const int H = 3;
        var w = new ReluRnnWeights(H, 1, 2, F(new double[H]), F(Enumerable.Range(0, H * H).Select(k => k % (H + 1) == 0 ? a : 0)), F(new double[2 * H]));
        Assert.Equal(expected, expected < 0 ? -1 : (int)Math.Ceiling(Math.Log(tolerance) / Math.Log(a) - 1e-12));
        var d = Orbits.Decay(w, [[1.0, 2.0, 3.0], [0.5, 0.0, 0.1]], 100, tolerance);
        Assert.Equal(new[] { expected, expected }, d.Steps.ToArray());
        Assert.Equal(expected < 0 ? 0 : 2, d.Decayed);
        if (expected >= 0) Assert.Equal(expected, d.MedianSteps);
        // The first start's noise-free path, for the PCA figure: h_t = aᵗ h_0 up to the step it decays (or the last).
        Assert.Equal(expected < 0 ? 101 : expected + 1, d.FirstPath.Length);
        for (int t = 0; t < d.FirstPath.Length; t++)
            Assert.Equal(new[] { 1.0, 2.0, 3.0 }.Select(x => x * Math.Pow(a, t)), d.FirstPath[t], new ToleranceComparer(1e-6));
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance * Math.Max(1, Math.Abs(y));
        public int GetHashCode(double obj) => 0;
    }

    /// <summary>
    /// States on a circle visited at a constant angular step Δ = 2π/N, with a readout P(0) = σ(k (h₀ − h₁)): the PCA of a
    /// circle is any orthonormal basis of its plane, so the phase is the true angle up to a rotation and a reflection;
    /// |mean phase step| = Δ (a missing wrap at ±π would add −2π once a lap), the direction is the same at every step
    /// (circulation 0 or 1), reversing time flips the mean step, every bin holds N/bins ± 1 states, and P(0) swings from
    /// σ(−k√2 cos 7.5°) to σ(k√2 cos 7.5°) ≈ 1 across the bins (k = 20).
    /// </summary>
    [Fact]
    public void Emission_by_phase_on_a_circle_orbit()
    {
        const int N = 240, bins = 24;
        const double k = 20;
        var w = new ReluRnnWeights(2, 1, 2, F([0, 0]), F([0, 0, 0, 0]), F([k, 0, 0, k]));
        var states = Enumerable.Range(0, 3 * N).Select(t =>
        {
            var phi = 2 * Math.PI * (t + 0.25) / N;
            return ImmutableArray.Create(3 + Math.Cos(phi), 3 + Math.Sin(phi));
        }).ToArray();
        var pca = Pca.Fit(states);
        var o = Orbits.EmissionByPhase(w, states, pca, bins);
        Assert.Equal(2 * Math.PI / N, Math.Abs(o.MeanAngularStep), 9);
        Assert.True(o.Circulation is 0 or 1, $"circulation {o.Circulation}");
        var reversed = Orbits.EmissionByPhase(w, [.. states.Reverse()], pca, bins);
        Assert.Equal(-o.MeanAngularStep, reversed.MeanAngularStep, 9);
        Assert.Equal(3 * N, o.Counts.Sum());
        Assert.All(o.Counts, c => Assert.InRange(c, 3 * (N / bins - 1), 3 * (N / bins + 1)));
        Assert.All(o.MeanRadius, r => Assert.Equal(1, r, 9));
        var swing = 1 / (1 + Math.Exp(-k * Math.Sqrt(2) * Math.Cos(7.5 * Math.PI / 180)));
        Assert.InRange(o.Modulation, 0.98, 1.0);
        Assert.True(o.Modulation >= 2 * swing - 1 - 1e-3, $"modulation {o.Modulation}");
        Assert.All(o.Emission, row => Assert.Equal(1, row.Sum(), 9));
    }

    /// <summary>
    /// Scaling the recurrent drive multiplies the rows of W_hh: one step of the scaled network equals
    /// ReLU(μ (W_hh h)_i + (W_ih x)_i) for the scaled units and the plain step elsewhere, computed here by hand; the noise
    /// drive scales the rows of W_ih the same way. Bugs caught: scaling columns (the kick units' outputs) instead of rows.
    /// </summary>
    [Fact]
    public void Scale_multiplies_the_units_recurrent_or_noise_drive()
    {
        var rng = new RngStream(Rng.FromSeed(3));
        const int H = 5, D = 2;
        var w = new ReluRnnWeights(H, D, 2, F(Enumerable.Range(0, H * D).Select(_ => rng.Normal())),
            F(Enumerable.Range(0, H * H).Select(_ => rng.Normal() * 0.5)), F(Enumerable.Range(0, 2 * H).Select(_ => rng.Normal())));
        double[] h = [0.3, 1.2, 0.0, 0.7, 0.4], x = [0.9, -0.6];
        int[] units = [1, 3];
        const double mu = 1.7;
        foreach (var drive in new[] { GainDrive.Recurrent, GainDrive.Noise })
        {
            var next = ReluRnn.Step(GainModulation.Scale(w, units, mu, drive), h, x);
            for (int i = 0; i < H; i++)
            {
                double r = 0, n = 0;
                for (int j = 0; j < H; j++) r += w.RecurrentWeights[i * H + j] * h[j];
                for (int j = 0; j < D; j++) n += w.InputWeights[i * D + j] * x[j];
                var g = units.Contains(i) ? mu : 1;
                var expected = Math.Max(0, drive == GainDrive.Recurrent ? g * r + n : r + g * n);
                Assert.Equal(expected, next[i], 5);
            }
        }
        Assert.Equal(w, GainModulation.Scale(w, units, 1, GainDrive.Recurrent));
    }

    /// <summary>
    /// The gain statistic against a brute-force re-computation in the reference's manner: run the network step by step,
    /// find the output changes, build each full H × H Jacobian diag(1[a_t &gt; 0]) W, take all its eigenvalues, Möbius-transform
    /// them and count |Re μ| &lt; 0.1, Im μ &gt; 0.06, summed over ±15 steps of each transition. Also its change rate
    /// against <see cref="KickUnits.ChangeRate(HmmRnn.Core.Rnn.ReluRnnWeights, ReadOnlySpan{double}, int[], int)"/>. Bugs caught: windows off by one or more, counting both members of a
    /// pair, eigenvalues of W_SS without the zero block's contribution, transitions at the wrong step.
    /// </summary>
    [Theory]
    [InlineData(4L, 0.5)]
    [InlineData(6L, 0.0)]
    [InlineData(5L, 1.3)]
    [InlineData(8L, 2.0)]
    public void Gain_point_matches_a_brute_force_count(long seed, double gain)
    {
        var rng = new RngStream(Rng.FromSeed(seed));
        const int H = 8, D = 3, T = 400, window = 15;
        var raw = new ReluRnnWeights(H, D, 3, F(Enumerable.Range(0, H * D).Select(_ => rng.Normal())),
            F(Enumerable.Range(0, H * H).Select(_ => rng.Normal() * 0.4)), F(Enumerable.Range(0, 3 * H).Select(_ => rng.Normal())));
        var w = GainModulation.Scale(raw, [0, 5], gain, GainDrive.Recurrent);
        var noise = new double[T * D];
        Rng.FromSeed(seed + 100).FillNormal(noise);

        var point = GainModulation.Point(w, gain, noise, 0, window, []);

        var (counts, symbols) = BruteForce(w, noise);
        var changes = Enumerable.Range(0, T - 1).Where(t => symbols[t + 1] != symbols[t]).ToArray();
        var inside = changes.Where(t => t - window + 1 >= 0 && t + window < T).ToArray();
        Assert.NotEmpty(inside);
        Assert.Equal(changes.Length, point.Transitions);
        Assert.Equal(inside.Average(t => Enumerable.Range(t - window + 1, 2 * window).Sum(s => counts[s])), point.NearCritical, 9);
        Assert.True(counts.Sum() > 0, "the test network should have near-critical steps for the count to mean something");
        Assert.Equal(KickUnits.ChangeRate(w, noise, []), point.ChangeRate, 12);
        Assert.False(point.WindowsFromIntact);
    }

    /// <summary>Per step, the near-critical pairs of the full Jacobian diag(1[a_t &gt; 0]) W and the argmax symbol, step by step.</summary>
    private static (int[] Counts, int[] Symbols) BruteForce(ReluRnnWeights w, double[] noise)
    {
        int H = w.Hidden, D = w.Input, O = w.Outputs, T = noise.Length / D;
        var whh = Matrix<double>.Build.Dense(H, H, (i, j) => w.RecurrentWeights[i * H + j]);
        var h = new double[H];
        var symbols = new int[T];
        var counts = new int[T];
        for (int t = 0; t < T; t++)
        {
            var a = new double[H];
            for (int i = 0; i < H; i++)
            {
                for (int j = 0; j < H; j++) a[i] += w.RecurrentWeights[i * H + j] * h[j];
                for (int k = 0; k < D; k++) a[i] += w.InputWeights[i * D + k] * noise[t * D + k];
            }
            var jac = Matrix<double>.Build.DiagonalOfDiagonalArray([.. a.Select(v => v > 0 ? 1.0 : 0.0)]) * whh;
            counts[t] = jac.Evd().EigenValues.Count(l => (l - 1) / (l + 1) is var m && Math.Abs(m.Real) < 0.1 && m.Imaginary > 0.06);
            h = [.. a.Select(v => Math.Max(0, v))];
            var y = Enumerable.Range(0, O).Select(o => Enumerable.Range(0, H).Sum(j => w.Readout[o * H + j] * h[j])).ToArray();
            symbols[t] = Array.IndexOf(y, y.Max());
        }
        return (counts, symbols);
    }

    /// <summary>
    /// A network whose output never changes (zero readout) counts its pairs around the transitions it is given (the intact
    /// network's, as the reference falls back to), and says so. Bug caught: NaN, or windows at no transition at all.
    /// </summary>
    [Fact]
    public void Gain_point_without_transitions_counts_around_the_given_ones()
    {
        var rng = new RngStream(Rng.FromSeed(6));
        const int H = 8, D = 3, T = 300;
        var w = new ReluRnnWeights(H, D, 3, F(Enumerable.Range(0, H * D).Select(_ => rng.Normal())),
            F(Enumerable.Range(0, H * H).Select(_ => rng.Normal() * 0.4)), F(new double[3 * H]));
        var noise = new double[T * D];
        Rng.FromSeed(106).FillNormal(noise);
        var point = GainModulation.Point(w, 1, noise, 0, 15, [5, 50, 120, 290]);
        var (counts, _) = BruteForce(w, noise);
        Assert.Equal(0, point.Transitions);
        Assert.True(point.WindowsFromIntact);
        Assert.Equal(new[] { 50, 120 }.Average(t => Enumerable.Range(t - 14, 30).Sum(s => counts[s])), point.NearCritical, 9);
    }

    /// <summary>
    /// The full modulation: the kick curve's μ = 1 point is the intact network's, whichever units are named; control sets
    /// never contain a modulated unit and have its size; with one gain and no control set the result has one point.
    /// </summary>
    [Fact]
    public void Run_uses_the_same_noise_at_every_gain_and_draws_disjoint_control_sets()
    {
        var w = PlantedKickNetwork.Build();
        var options = new GainOptions([0.0, 1.0, 2.0], Steps: 600, ControlSets: 3);
        var a = GainModulation.Run(w, PlantedKickNetwork.Kicks, 1.0, Rng.FromSeed(9), options);
        var b = GainModulation.Run(w, PlantedKickNetwork.Distractors[..2], 1.0, Rng.FromSeed(9), options);
        Assert.Equal(a.Kick.Points[1] with { Gain = 0 }, b.Kick.Points[1] with { Gain = 0 });
        Assert.True(a.Kick.Points[1].Transitions > 0);
        Assert.Equal(3, a.Controls.Length);
        Assert.All(a.Controls, c =>
        {
            Assert.Equal(2, c.Units.Length);
            Assert.Empty(c.Units.Intersect(PlantedKickNetwork.Kicks));
            Assert.Equal(a.Kick.Points[1] with { Gain = 0 }, c.Points[1] with { Gain = 0 });
        });
        Assert.NotEqual(a.Kick.Points[0], a.Kick.Points[2]);
    }
}
