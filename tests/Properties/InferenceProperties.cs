using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using HmmRnn.Core;
using HmmRnn.Core.HiddenMarkov;
using HmmRnn.Testing;

namespace HmmRnn.Properties;

/// <summary>Exact inference against brute-force enumeration over all state paths (K ≤ 3, T ≤ 6).</summary>
[Properties(Arbitrary = [typeof(HmmArbitraries)], MaxTest = 200)]
public class InferenceProperties
{
    private const double Tol = 1e-9;

    private static bool Close(double a, double b, double rel = Tol) =>
        Math.Abs(a - b) <= rel * Math.Max(1, Math.Max(Math.Abs(a), Math.Abs(b)));

    [Property]
    public Property Filtered_rows_are_distributions(HmmWithOutputs c)
    {
        var r = Filtering.Forward(c.Hmm, c.Outputs);
        return r.Filtered.All(p => p.AsSpan().ToArray().All(x => x >= 0 && x <= 1) && Math.Abs(p.AsSpan().ToArray().Sum() - 1) < Tol)
            .Label($"filtered: {string.Join(" ", r.Filtered)}");
    }

    [Property]
    public Property Log_likelihood_equals_enumeration(HmmWithOutputs c)
    {
        var expected = Math.Log(BruteForce.Likelihood(c.Hmm, c.Outputs));
        var forward = Filtering.Forward(c.Hmm, c.Outputs).LogLikelihood;
        var fast = Filtering.LogLikelihood(c.Hmm, c.Outputs);
        var smoothed = Filtering.Smooth(c.Hmm, c.Outputs).LogLikelihood;
        return (Close(forward, expected) && Close(fast, expected) && Close(smoothed, expected))
            .Label($"enumeration {expected}, forward {forward}, fast kernel {fast}, smoother {smoothed}");
    }

    [Property]
    public Property Filtered_marginals_equal_enumeration(HmmWithOutputs c)
    {
        var r = Filtering.Forward(c.Hmm, c.Outputs);
        for (int t = 0; t < c.Outputs.Length; t++)
        {
            var expected = BruteForce.Marginal(c.Hmm, c.Outputs, t, to: t);
            for (int i = 0; i < c.Hmm.States; i++)
                if (!Close(r.Filtered[t][i], expected[i]))
                    return false.Label($"t={t} i={i}: filter {r.Filtered[t][i]} vs enumeration {expected[i]}");
        }
        return true.ToProperty();
    }

    [Property]
    public Property Filtering_one_output_at_a_time_equals_the_whole_sequence_filter(HmmWithOutputs c)
    {
        // Catches a step filter that predicts through A before the first output, forgets to normalise,
        // or drops a normaliser from the running log-likelihood: bit for bit the same numbers as Forward,
        // whose rows are checked against enumeration above.
        var whole = Filtering.Forward(c.Hmm, c.Outputs);
        var state = Filtering.Start(c.Hmm);
        if (!state.Filtered.Equals(c.Hmm.Initial) || state.LogLikelihood != 0 || state.Steps != 0)
            return false.Label($"start: {state}");
        for (int t = 0; t < c.Outputs.Length; t++)
        {
            state = Filtering.Observe(state, c.Outputs[t]);
            if (state.Steps != t + 1 || !state.Filtered.Equals(whole.Filtered[t]))
                return false.Label($"t={t}: step filter {state.Filtered} (steps {state.Steps}) vs forward {whole.Filtered[t]}");
        }
        return (state.LogLikelihood == whole.LogLikelihood)
            .Label($"log-likelihood: step filter {state.LogLikelihood} vs forward {whole.LogLikelihood}");
    }

    [Fact]
    public void Filtering_one_output_at_a_time_names_the_step_the_model_cannot_emit()
    {
        // Catches a step filter that returns NaN rows (0/0) instead of failing on an impossible output.
        // Two states that emit only their own symbol and never move: after 0, symbol 1 is impossible.
        var hmm = new Hmm(ProbabilityVector.Uniform(2), StochasticMatrix.Identity(2), StochasticMatrix.Identity(2));
        var state = Filtering.Observe(Filtering.Observe(Filtering.Start(hmm), 0), 0);
        Assert.Equal(new[] { 1.0, 0.0 }, state.Filtered.Values);
        var e = Assert.Throws<ArgumentException>(() => Filtering.Observe(state, 1));
        Assert.Contains("t = 2", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Filtering.Observe(state, 2));
    }

    [Property]
    public Property Smoothed_marginals_equal_enumeration(HmmWithOutputs c)
    {
        var r = Filtering.Smooth(c.Hmm, c.Outputs);
        int last = c.Outputs.Length - 1;
        for (int t = 0; t <= last; t++)
        {
            var expected = BruteForce.Marginal(c.Hmm, c.Outputs, t, to: last);
            for (int i = 0; i < c.Hmm.States; i++)
                if (!Close(r.Smoothed[t][i], expected[i]))
                    return false.Label($"t={t} i={i}: smoother {r.Smoothed[t][i]} vs enumeration {expected[i]}");
        }
        // The last smoothed marginal is the last filtered one.
        return Enumerable.Range(0, c.Hmm.States).All(i => Close(r.Smoothed[last][i], r.Filtered[last][i]))
            .Label("last smoothed marginal differs from the last filtered one");
    }

    [Property]
    public Property Viterbi_is_the_arg_max_path(HmmWithOutputs c)
    {
        var v = Filtering.Viterbi(c.Hmm, c.Outputs);
        var best = BruteForce.Paths(c.Hmm, c.Outputs).Max(p => p.Joint);
        var pathJoint = BruteForce.Paths(c.Hmm, c.Outputs).First(p => p.Path.SequenceEqual(v.Path)).Joint;
        return (Close(Math.Log(best), v.LogProbability) && Close(pathJoint, best))
            .Label($"viterbi log p {v.LogProbability}, best by enumeration {Math.Log(best)}, its path's {Math.Log(pathJoint)}");
    }

    [Property]
    public Property Batch_log_likelihoods_match_single_and_do_not_depend_on_threads(HmmWithOutputs c)
    {
        var seqs = HmmSampling.Sample(c.Hmm, 37, c.Outputs.Length, Rng.FromSeed(c.Outputs.Length)).Outputs;
        var parallel = Filtering.LogLikelihoods(c.Hmm, seqs, parallel: true);
        var serial = Filtering.LogLikelihoods(c.Hmm, seqs, parallel: false);
        return (parallel.SequenceEqual(serial)
                && seqs.Select((s, n) => Close(serial[n], Filtering.Forward(c.Hmm, s).LogLikelihood)).All(b => b))
            .ToProperty();
    }

    [Property(MaxTest = 100)]
    public Property Fast_kernel_equals_the_scaled_filter_on_larger_models_and_long_sequences()
    {
        // Several SIMD blocks (K up to 11) and T long enough to exercise the deferred logarithm.
        var gen = from hmm in HmmGen.Hmm(maxStates: 11, maxSymbols: 5)
                  from length in Gen.Choose(1, 400)
                  from seed in Gen.Choose(0, int.MaxValue)
                  select (hmm, HmmSampling.Sample(hmm, 1, length, Rng.FromSeed(seed)).Outputs[0]);
        return Prop.ForAll(gen.ToArbitrary(), c =>
        {
            var fast = Filtering.LogLikelihood(c.hmm, c.Item2);
            var plain = Filtering.Forward(c.hmm, c.Item2).LogLikelihood;
            return Close(fast, plain, 1e-12).Label($"K={c.hmm.States} T={c.Item2.Length}: kernel {fast} vs filter {plain}");
        });
    }

    [Property(MaxTest = 100)]
    public Property Batched_kernel_equals_the_scaled_filter_lane_by_lane()
    {
        // Groups of four equal-length sequences run one per SIMD lane. Random symbols (not drawn
        // from the model) make some sequences impossible: −∞ in one lane must not touch the others.
        var gen = from hmm in HmmGen.Hmm(maxStates: 11, maxSymbols: 4)
                  from lengths in Gen.Elements(1, 7, 250).ArrayOf(13)
                  from seed in Gen.Choose(0, int.MaxValue)
                  select (hmm, lengths, seed);
        return Prop.ForAll(gen.ToArbitrary(), c =>
        {
            var rng = Rng.FromSeed(c.seed);
            var seqs = new List<ImmutableArray<int>>();
            foreach (var (len, n) in c.lengths.Select((l, n) => (l, n)))
            {
                if (n % 3 == 2)
                {
                    var o = new int[len];
                    for (int t = 0; t < len; t++) (o[t], rng) = rng.NextInt(c.hmm.Symbols);
                    seqs.Add([.. o]);
                }
                else seqs.Add(HmmSampling.Sample(c.hmm, 1, len, rng.Substream(n)).Outputs[0]);
            }
            // Runs of equal lengths, so that some groups take the batched path.
            seqs = seqs.OrderBy(q => q.Length).ToList();
            var batch = Filtering.LogLikelihoods(c.hmm, seqs, parallel: false);
            for (int n = 0; n < seqs.Count; n++)
            {
                var single = Filtering.LogLikelihood(c.hmm, seqs[n]);
                if (!(single == batch[n] || Close(single, batch[n], 1e-12)))
                    return false.Label($"sequence {n} (T={seqs[n].Length}): batch {batch[n]} vs single {single}");
            }
            return true.ToProperty();
        });
    }

    [Property]
    public Property Stationary_distribution_is_invariant(Hmm hmm)
    {
        var pi = HmmStatistics.Stationary(hmm);
        for (int j = 0; j < hmm.States; j++)
        {
            var next = 0.0;
            for (int i = 0; i < hmm.States; i++) next += pi[i] * hmm.Transition[i, j];
            if (Math.Abs(next - pi[j]) > 1e-9) return false.Label($"(πA)[{j}] = {next} but π[{j}] = {pi[j]}");
        }
        return true.ToProperty();
    }

    [Property]
    public Property Analytic_output_statistics_equal_enumeration_of_two_steps(Hmm hmm)
    {
        // P(o_0, o_1) by enumerating the two-step paths from the stationary start.
        var stationary = hmm.WithInitial(HmmStatistics.Stationary(hmm));
        var stats = HmmStatistics.Outputs(hmm);
        double same = 0;
        for (int a = 0; a < hmm.Symbols; a++)
        {
            var pa = BruteForce.Likelihood(stationary, [a]);
            if (!Close(stats.Frequencies[a], pa)) return false.Label($"P(o={a}) {stats.Frequencies[a]} vs {pa}");
            for (int b = 0; b < hmm.Symbols; b++)
            {
                var pab = BruteForce.Likelihood(stationary, [a, b]);
                if (a == b) same += pab;
                if (pa > 1e-12 && !Close(stats.Transition[a, b], pab / pa, 1e-7))
                    return false.Label($"P({b}|{a}) {stats.Transition[a, b]} vs {pab / pa}");
            }
        }
        return Close(stats.ChangeProbability, 1 - same).Label($"P(change) {stats.ChangeProbability} vs {1 - same}");
    }
}
