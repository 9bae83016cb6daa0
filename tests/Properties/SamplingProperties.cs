using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using HmmRnn.Analysis.HmmEmulation;
using HmmRnn.Core;
using HmmRnn.Core.HiddenMarkov;
using HmmRnn.Testing;

namespace HmmRnn.Properties;

[Properties(Arbitrary = [typeof(HmmArbitraries)], MaxTest = 50)]
public class SamplingProperties
{
    [Property]
    public Property Same_seed_same_samples(Hmm hmm, long seed)
    {
        var a = HmmSampling.Sample(hmm, 20, 15, Rng.FromSeed(seed));
        var b = HmmSampling.Sample(hmm, 20, 15, Rng.FromSeed(seed));
        return (a.Outputs.Zip(b.Outputs).All(p => p.First.SequenceEqual(p.Second))
                && a.States.Zip(b.States).All(p => p.First.SequenceEqual(p.Second))).ToProperty();
    }

    [Property]
    public Property Sequence_n_does_not_depend_on_batch_size(Hmm hmm, long seed)
    {
        var small = HmmSampling.Sample(hmm, 5, 12, Rng.FromSeed(seed));
        var large = HmmSampling.Sample(hmm, 400, 12, Rng.FromSeed(seed)); // large enough to go parallel
        return Enumerable.Range(0, 5).All(n => small.Outputs[n].SequenceEqual(large.Outputs[n])).ToProperty();
    }

    [Property]
    public Property Samples_only_use_allowed_transitions_and_emissions(Hmm hmm, long seed)
    {
        var s = HmmSampling.Sample(hmm, 30, 20, Rng.FromSeed(seed));
        for (int n = 0; n < s.Count; n++)
            for (int t = 0; t < s.Length; t++)
            {
                var z = s.States[n][t];
                if (hmm.Emission[z, s.Outputs[n][t]] == 0) return false.Label($"emitted a symbol of probability 0 at n={n} t={t}");
                if (t == 0 && hmm.Initial[z] == 0) return false.Label($"started in a state of probability 0 at n={n}");
                if (t > 0 && hmm.Transition[s.States[n][t - 1], z] == 0) return false.Label($"impossible transition at n={n} t={t}");
            }
        return true.ToProperty();
    }
}

/// <summary>
/// Large-sample convergence of empirical output statistics to the analytic ones, for every model
/// of the paper's catalogue, at a fixed seed.
/// </summary>
public class SamplingConvergence
{
    // Tolerance: sequences are independent (each starts from the stationary law), so each statistic's
    // per-sequence mean is an i.i.d. draw. By the CLT the pooled mean has standard error SE = sd/√N;
    // we allow 5 SE (a two-sided 5σ band; false alarms ≈ 6e-7 per statistic at any seed), plus 1e-12.
    private const int Sequences = 4000;
    private const double Sigmas = 5;

    public static TheoryData<string> Names() => new(HmmCatalogue.Names);

    [Theory]
    [MemberData(nameof(Names))]
    public void Empirical_statistics_converge_to_the_analytic_ones(string name)
    {
        var entry = HmmCatalogue.Named(name);
        var hmm = entry.Hmm;
        int v = hmm.Symbols;
        var sample = HmmSampling.Sample(hmm, Sequences, entry.SequenceLength, Rng.FromSeed(20251123));
        var truth = HmmStatistics.Outputs(hmm);

        // Per sequence: the fraction of steps emitting each symbol, of pairs (a, b), and of changes.
        var perSeq = sample.Outputs.Select(o => PerSequence(o, v)).ToArray();
        var stats = v + v * v + 1;
        for (int j = 0; j < stats; j++)
        {
            var xs = perSeq.Select(p => p[j]).ToArray();
            var mean = xs.Average();
            var sd = Math.Sqrt(xs.Select(x => (x - mean) * (x - mean)).Sum() / (xs.Length - 1));
            var tol = Sigmas * sd / Math.Sqrt(xs.Length) + 1e-12;
            var expected = j < v ? truth.Frequencies[j]
                : j < v + v * v ? truth.Frequencies[(j - v) / v] * truth.Transition[(j - v) / v, (j - v) % v]
                : truth.ChangeProbability;
            Assert.True(Math.Abs(mean - expected) <= tol,
                $"{name}, statistic {j}: empirical {mean:G6} vs analytic {expected:G6}, tolerance {tol:G3}");
        }

        // The pooled estimator in Analysis agrees with the analytic transition matrix to the same order.
        var pooled = EmpiricalStatistics.Outputs(sample.Outputs, v);
        Assert.True(EmpiricalStatistics.TransitionSquaredError(pooled.Transition, truth.Transition) < 0.01,
            $"{name}: pooled transition matrix {pooled.Transition} vs {truth.Transition}");
    }

    private static double[] PerSequence(ImmutableArray<int> o, int v)
    {
        var r = new double[v + v * v + 1];
        for (int t = 0; t < o.Length; t++) r[o[t]] += 1.0 / o.Length;
        for (int t = 1; t < o.Length; t++)
        {
            r[v + o[t - 1] * v + o[t]] += 1.0 / (o.Length - 1);
            if (o[t] != o[t - 1]) r[^1] += 1.0 / (o.Length - 1);
        }
        return r;
    }
}
