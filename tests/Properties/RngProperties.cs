using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using HmmRnn.Core;

namespace HmmRnn.Properties;

public class RngProperties
{
    private const int N = 200_000;

    [Property]
    public Property Same_state_same_stream(long seed)
    {
        var a = Rng.FromSeed(seed);
        var b = Rng.FromSeed(seed);
        var xs = new double[64];
        var ys = new double[64];
        a.FillNormal(xs);
        b.FillNormal(ys);
        return xs.SequenceEqual(ys).ToProperty();
    }

    [Property]
    public Property Split_streams_differ(long seed)
    {
        var (l, r) = Rng.FromSeed(seed).Split();
        return (l.NextUInt64().Value != r.NextUInt64().Value && l != r).ToProperty();
    }

    [Fact]
    public void Known_first_value_pins_the_algorithm_across_machines()
    {
        // SplitMix64 reference (Vigna, splitmix64.c): from state 0 the first output is 0xE220A8397B1DCDAF.
        Assert.Equal(0xE220A8397B1DCDAFUL, new Rng(0).NextUInt64().Value);
    }

    [Fact]
    public void Uniform_normal_gumbel_and_categorical_have_their_moments()
    {
        // Tolerances: 5 standard errors of the mean over N draws.
        var rng = Rng.FromSeed(7);
        var u = new double[N];
        rng = rng.FillUniform(u);
        Assert.All(u, x => Assert.InRange(x, 0.0, 0.9999999999999999));
        Assert.InRange(u.Average(), 0.5 - 5 * Math.Sqrt(1.0 / 12 / N), 0.5 + 5 * Math.Sqrt(1.0 / 12 / N));

        var z = new double[N];
        rng = rng.FillNormal(z);
        var mean = z.Average();
        var variance = z.Select(x => (x - mean) * (x - mean)).Average();
        Assert.InRange(mean, -5 / Math.Sqrt(N), 5 / Math.Sqrt(N));
        Assert.InRange(variance, 1 - 5 * Math.Sqrt(2.0 / N), 1 + 5 * Math.Sqrt(2.0 / N)); // Var(s²) ≈ 2/N

        // Gumbel: mean = Euler–Mascheroni γ, variance π²/6.
        double g = 0;
        for (int i = 0; i < N; i++) { (var x, rng) = rng.NextGumbel(); g += x; }
        Assert.InRange(g / N, 0.5772156649 - 5 * Math.Sqrt(Math.PI * Math.PI / 6 / N), 0.5772156649 + 5 * Math.Sqrt(Math.PI * Math.PI / 6 / N));

        var p = ProbabilityVector.Create(0.2, 0.0, 0.5, 0.3);
        var counts = new int[4];
        for (int i = 0; i < N; i++) { (var k, rng) = rng.NextCategorical(p); counts[k]++; }
        Assert.Equal(0, counts[1]);
        for (int k = 0; k < 4; k++)
            Assert.InRange(counts[k] / (double)N, p[k] - 5 * Math.Sqrt(p[k] * (1 - p[k]) / N), p[k] + 5 * Math.Sqrt(p[k] * (1 - p[k]) / N) + 1e-12);
    }

    [Fact]
    public void Substreams_are_deterministic_and_distinct()
    {
        var root = Rng.FromSeed(3);
        Assert.Equal(root.Substream(5), root.Substream(5));
        Assert.NotEqual(root.Substream(5), root.Substream(6));
        Assert.NotEqual(root.Substream(0), root);
    }

    private const int Pairs = 100_000;

    /// <summary>Pearson correlation of a[t] with b[t + lag] over the overlapping pairs.</summary>
    private static double Correlation(double[] a, double[] b, int lag)
    {
        int from = Math.Max(0, -lag), to = Math.Min(a.Length, b.Length - lag);
        double ma = 0, mb = 0;
        for (int t = from; t < to; t++) { ma += a[t]; mb += b[t + lag]; }
        ma /= to - from;
        mb /= to - from;
        double sab = 0, saa = 0, sbb = 0;
        for (int t = from; t < to; t++)
        {
            double da = a[t] - ma, db = b[t + lag] - mb;
            sab += da * db;
            saa += da * da;
            sbb += db * db;
        }
        return sab / Math.Sqrt(saa * sbb);
    }

    /// <summary>
    /// Two streams of uniforms are uncorrelated, paired step by step and shifted against each other by up
    /// to 3 draws (so one stream is not the other a few steps on). For independent streams the sample
    /// correlation of N pairs is ≈ N(0, 1/N): ±5/√N is 5 standard errors, a false alarm once in ~2·10⁶ per lag.
    /// </summary>
    private static void AssertUncorrelated(Rng left, Rng right)
    {
        var a = new double[Pairs];
        var b = new double[Pairs];
        left.FillUniform(a);
        right.FillUniform(b);
        for (int lag = -3; lag <= 3; lag++)
        {
            var r = Correlation(a, b, lag);
            var bound = 5 / Math.Sqrt(Pairs - Math.Abs(lag));
            Assert.True(Math.Abs(r) <= bound, $"correlation at lag {lag}: {r:F5}, outside ±{bound:F5}");
        }
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(-7L)]
    [InlineData(123456789L)]
    public void Split_streams_are_uncorrelated(long seed)
    {
        var (left, right) = Rng.FromSeed(seed).Split();
        AssertUncorrelated(left, right);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(5L)]
    [InlineData(1_000_000L)]
    public void Neighbouring_substreams_are_uncorrelated(long index)
    {
        var root = Rng.FromSeed(3);
        AssertUncorrelated(root.Substream(index), root.Substream(index + 1));
    }

    [Fact]
    public void Categorical_draws_pass_a_chi_square_test_against_their_probabilities()
    {
        // Pearson's X² = Σ_k (n_k − N p_k)² / (N p_k) over the 5 categories of positive probability, df = 5 − 1 = 4.
        // Critical value for p = 0.001 at df 4: 18.467 (NIST/SEMATECH e-Handbook of Statistical Methods, table
        // 1.3.6.7.4, upper critical values of the chi-square distribution; MathNet ChiSquared.InvCDF(4, 0.999)
        // = 18.4668). Power: under probabilities q ≠ p, X² is non-central chi-square with λ = N Σ (q_k − p_k)²/p_k;
        // at λ ≈ 28 the test rejects 90% of the time (Poisson mixture of central χ² tails), which with
        // N = 200,000 is e.g. 0.004 of probability moved between the categories of 0.2 and 0.25.
        const double critical = 18.467;
        var p = ProbabilityVector.Create(0.05, 0.2, 0.0, 0.3, 0.25, 0.2);
        var counts = new int[p.Count];
        var rng = Rng.FromSeed(11);
        for (int i = 0; i < N; i++) { (var k, rng) = rng.NextCategorical(p); counts[k]++; }
        Assert.Equal(0, counts[2]); // probability zero is never drawn, and leaves the test (no degree of freedom)
        double x2 = 0;
        for (int k = 0; k < p.Count; k++)
            if (p[k] > 0) x2 += (counts[k] - N * p[k]) * (counts[k] - N * p[k]) / (N * p[k]);
        Assert.True(x2 < critical, $"X² = {x2:F2} ≥ {critical} (df 4, p = 0.001); counts {string.Join(", ", counts)}");
    }
}
