using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using HmmRnn.Analysis.Dynamics;
using HmmRnn.Core;
using HmmRnn.Core.Rnn;

namespace HmmRnn.Properties;

/// <summary>RADD's closed-form regression (Schaeffer et al. 2020, §3.3.2; SPEC B4), checked against what OLS must satisfy.</summary>
public class RaddProperties
{
    /// <summary>A small tanh RNN u_t = tanh(A u_{t−1} + B o_t + c) and sequences it produced from Gaussian inputs.</summary>
    public sealed record TanhSystem(int Units, int Inputs, double[] A, double[] B, double[] C, ImmutableArray<RaddSequence> Sequences);

    private static Gen<TanhSystem> Systems { get; } =
        from m in Gen.Choose(1, 3)
        from inputs in Gen.Choose(1, 3)
        from count in Gen.Choose(1, 3)
        from length in Gen.Choose(m + inputs + 2, 40)
        from seed in Gen.Choose(0, int.MaxValue)
        select MakeSystem(m, inputs, count, length, seed);

    private static TanhSystem MakeSystem(int m, int inputs, int count, int length, int seed)
    {
        var rng = new RngStream(Rng.FromSeed(seed));
        double[] a = new double[m * m], b = new double[m * inputs], c = new double[m];
        for (int i = 0; i < a.Length; i++) a[i] = (2 * rng.Uniform() - 1) * 0.9 / m;
        for (int i = 0; i < b.Length; i++) b[i] = 0.5 * rng.Normal();
        for (int i = 0; i < c.Length; i++) c[i] = 0.6 * rng.Uniform() - 0.3;
        var readout = new double[m * m];
        for (int i = 0; i < m; i++) readout[i * m + i] = 1;
        var net = new TanhRnnWeights(m, inputs, m, [.. a], [.. b], [.. c], [.. readout], [.. new double[m]]);
        var sequences = ImmutableArray.CreateBuilder<RaddSequence>();
        for (int n = 0; n < count; n++)
        {
            var u = new double[m];
            for (int i = 0; i < m; i++) u[i] = rng.Uniform() - 0.5;
            var states = ImmutableArray.CreateBuilder<ImmutableArray<double>>();
            var ins = ImmutableArray.CreateBuilder<ImmutableArray<double>>();
            for (int t = 0; t < length; t++)
            {
                var o = new double[inputs];
                for (int k = 0; k < inputs; k++) o[k] = rng.Normal();
                if (t > 0) u = TanhRnn.Step(net, u, o);
                states.Add([.. u]);
                ins.Add([.. o]);
            }
            sequences.Add(new RaddSequence(states.ToImmutable(), ins.ToImmutable()));
        }
        return new TanhSystem(m, inputs, a, b, c, sequences.ToImmutable());
    }

    /// <summary>A′ z / κ + B′ o + c′ for unit i, written out from the model's parameters.</summary>
    private static double PreActivation(RaddModel p, ImmutableArray<double> previous, ImmutableArray<double> input, int i)
    {
        var x = p.Bias[i];
        for (int j = 0; j < p.Units; j++) x += p.A(i, j) * previous[j] / p.Scale;
        for (int k = 0; k < p.Inputs; k++) x += p.B(i, k) * input[k];
        return x;
    }

    /// <summary>The system's states bent away from any tanh RNN, so that the fit has residuals.</summary>
    private static ImmutableArray<RaddSequence> Perturbed(TanhSystem s) => [.. s.Sequences.Select((q, n) => q with
    {
        States = [.. q.States.Select((z, t) => z.Select((v, i) => 0.7 * v + 0.2 * Math.Sin(3 * t + 7 * i + n)).ToImmutableArray())],
    })];

    private static double MaxDifference(IEnumerable<double> x, IEnumerable<double> y) => x.Zip(y, (p, q) => Math.Abs(p - q)).DefaultIfEmpty(0).Max();

    [Property(MaxTest = 200)]
    public Property Recovers_a_tanh_RNN_exactly_from_its_own_states() => Prop.ForAll(Systems.ToArbitrary(), s =>
    {
        // With κ = 1 the data are exactly u_t = tanh(A u_{t−1} + B o_t + c): OLS on artanh(u_t) has zero residual.
        var model = Radd.Fit(s.Sequences, new RaddOptions(Scale: 1));
        var err = Math.Max(MaxDifference(model.Recurrent, s.A), Math.Max(MaxDifference(model.InputWeights, s.B), MaxDifference(model.Bias, s.C)));
        return (err < 1e-7 && model.Fit.ResidualRms < 1e-9).Label($"max parameter error {err}, residual {model.Fit.ResidualRms}");
    });

    [Property(MaxTest = 100)]
    public Property The_distilled_RNN_run_free_reproduces_the_teacher() => Prop.ForAll(Systems.ToArbitrary(), s =>
    {
        var model = Radd.Fit(s.Sequences, new RaddOptions(Scale: 1));
        var worst = s.Sequences.Max(q =>
        {
            var run = Radd.Run(model, q.States[0], q.Inputs);
            return run.Zip(q.States, (x, y) => MaxDifference(x, y)).Max();
        });
        return (worst < 1e-7).Label($"largest state difference {worst}");
    });

    [Property(MaxTest = 100)]
    public Property Step_is_kappa_tanh_of_the_scaled_preactivation() => Prop.ForAll(Systems.ToArbitrary(), s =>
    {
        // With the paper's κ ≠ 1: z_t = κ tanh(A′ z_(t−1) / κ + B′ o_t + c′), written out from the parameters.
        var model = Radd.Fit(Perturbed(s));
        var worst = s.Sequences.SelectMany(q => Enumerable.Range(1, q.States.Length - 1).Select(t =>
        {
            var z = Radd.Step(model, q.States[t - 1], q.Inputs[t]);
            return Enumerable.Range(0, model.Units).Max(i => Math.Abs(z[i] - model.Scale * Math.Tanh(PreActivation(model, q.States[t - 1], q.Inputs[t], i))));
        })).Max();
        return (Math.Abs(model.Scale - 1) > 1e-6 && worst < 1e-12).Label($"κ = {model.Scale}, largest difference {worst}");
    });

    [Property(MaxTest = 100)]
    public Property Residuals_are_orthogonal_to_every_regressor() => Prop.ForAll(Systems.ToArbitrary(), s =>
    {
        // The normal equations Xᵀ(y − Xβ) = 0 hold for any data; perturb the states so the fit is not exact.
        var noisy = Perturbed(s);
        var model = Radd.Fit(noisy, RaddOptions.Paper);
        int m = model.Units, inputs = model.Inputs;
        var dots = new double[m, m + inputs + 1];
        foreach (var q in noisy)
            for (int t = 1; t < q.States.Length; t++)
            {
                var x = q.States[t - 1].Select(v => v / model.Scale).Concat(q.Inputs[t]).Append(1.0).ToArray();
                for (int i = 0; i < m; i++)
                {
                    var r = Math.Atanh(q.States[t][i] / model.Scale) - PreActivation(model, q.States[t - 1], q.Inputs[t], i);
                    for (int col = 0; col < x.Length; col++) dots[i, col] += r * x[col];
                }
            }
        var worst = dots.Cast<double>().Max(Math.Abs);
        return (worst < 1e-8 * model.Fit.Pairs).Label($"largest |Xᵀr| = {worst}");
    });

    [Property(MaxTest = 100)]
    public Property Scaling_the_states_scales_kappa_and_leaves_the_circuit() => Prop.ForAll(Systems.ToArbitrary(), Gen.Choose(1, 1000).ToArbitrary(), (s, k) =>
    {
        // u = z / κ with κ = 1.01 max|z|: multiplying every z by f > 0 multiplies κ by f and changes nothing else.
        var f = k / 37.0;
        var scaled = s.Sequences.Select(q => q with { States = [.. q.States.Select(z => z.Select(v => f * v).ToImmutableArray())] }).ToImmutableArray();
        var a = Radd.Fit(s.Sequences);
        var b = Radd.Fit(scaled);
        var err = Math.Max(MaxDifference(a.Recurrent, b.Recurrent), Math.Max(MaxDifference(a.InputWeights, b.InputWeights), MaxDifference(a.Bias, b.Bias)));
        return (err < 1e-7 && Math.Abs(b.Scale - f * a.Scale) < 1e-12 * b.Scale).Label($"parameter change {err}, κ {a.Scale} → {b.Scale} (f = {f})");
    });

    [Property(MaxTest = 50)]
    public Property Pairs_never_bridge_two_sequences() => Prop.ForAll(Systems.ToArbitrary(), s =>
    {
        // Each sequence contributes its T − 1 consecutive pairs; their order does not matter.
        var forward = Radd.Fit(s.Sequences);
        var reversed = Radd.Fit([.. s.Sequences.Reverse()]);
        var pairs = s.Sequences.Sum(q => q.States.Length - 1);
        var err = MaxDifference(forward.Recurrent.Concat(forward.InputWeights).Concat(forward.Bias), reversed.Recurrent.Concat(reversed.InputWeights).Concat(reversed.Bias));
        return (forward.Fit.Pairs == pairs && err < 1e-9).Label($"pairs {forward.Fit.Pairs} vs {pairs}, order changes the fit by {err}");
    });

    [Property(MaxTest = 50)]
    public Property Distils_through_a_projection_of_a_wider_network() => Prop.ForAll(Systems.ToArbitrary(), Gen.Choose(0, int.MaxValue).ToArbitrary(), (s, seed) =>
    {
        // Embed u in N = M + 3 units, h = L u + (a part P cannot see); P L = I, so P h = u and RADD recovers the circuit.
        int m = s.Units, n = m + 3;
        var rng = new RngStream(Rng.FromSeed(seed));
        var projection = Enumerable.Range(0, m).Select(i => Enumerable.Range(0, n).Select(k => k == i ? 1.0 : 0.0).ToImmutableArray()).ToArray();
        var hidden = s.Sequences.Select(q => q.States.Select(u => u.Concat(Enumerable.Range(0, 3).Select(_ => rng.Normal())).ToImmutableArray()).ToArray()).ToArray();
        var projected = s.Sequences.Select((q, i) => q with { States = Radd.Project(hidden[i], projection) }).ToImmutableArray();
        var model = Radd.Fit(projected, new RaddOptions(Scale: 1));
        var err = Math.Max(MaxDifference(model.Recurrent, s.A), MaxDifference(model.Bias, s.C));
        return (err < 1e-7).Label($"max parameter error {err}");
    });

    [Property(MaxTest = 50)]
    public Property No_other_parameters_fit_better() => Prop.ForAll(Systems.ToArbitrary(), Gen.Choose(0, int.MaxValue).ToArbitrary(), (s, seed) =>
    {
        var noisy = Perturbed(s);
        var model = Radd.Fit(noisy);
        double Sse(RaddModel p) => noisy.Sum(q => Enumerable.Range(1, q.States.Length - 1).Sum(t =>
            Enumerable.Range(0, p.Units).Sum(i =>
            {
                var r = Math.Atanh(q.States[t][i] / p.Scale) - PreActivation(p, q.States[t - 1], q.Inputs[t], i);
                return r * r;
            })));
        var rng = new RngStream(Rng.FromSeed(seed));
        ImmutableArray<double> Nudge(ImmutableArray<double> w) => [.. w.Select(v => v + 0.01 * rng.Normal())];
        var best = Sse(model);
        for (int trial = 0; trial < 5; trial++)
        {
            var other = model with { Recurrent = Nudge(model.Recurrent), InputWeights = Nudge(model.InputWeights), Bias = Nudge(model.Bias) };
            if (Sse(other) < best - 1e-12) return false.Label($"a nudged model fits better: {Sse(other)} < {best}");
        }
        return true.ToProperty();
    });
}

public class RaddValidationTests
{
    private static RaddSequence Sequence(double[][] states, double[][] inputs) =>
        new([.. states.Select(s => s.ToImmutableArray())], [.. inputs.Select(s => s.ToImmutableArray())]);

    [Fact]
    public void A_missing_input_is_named()
    {
        var e = Assert.Throws<ArgumentException>(() => Radd.Fit([Sequence([[0.1], [0.2]], [[1.0]])]));
        Assert.Contains("sequence 0: 2 states but 1 inputs", e.Message);
    }

    [Fact]
    public void Too_few_pairs_are_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => Radd.Fit([Sequence([[0.1], [0.2], [0.3]], [[1.0], [2.0], [0.5]])]));
        Assert.Contains("2 consecutive pairs for 3 regressors", e.Message);
    }

    [Fact]
    public void A_scale_below_the_largest_state_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => Radd.Fit([Sequence([[0.1], [0.9], [0.3], [0.5]], [[1.0], [2.0], [0.5], [0.1]])], new RaddOptions(Scale: 0.5)));
        Assert.Contains("scale κ = 0.5", e.Message);
    }

    [Fact]
    public void A_constant_input_is_reported_as_duplicating_the_bias()
    {
        var e = Assert.Throws<ArgumentException>(() => Radd.Fit([Sequence([[0.1], [0.9], [0.3], [0.5], [-0.2]], [[1.0], [1.0], [1.0], [1.0], [1.0]])]));
        Assert.Contains("linearly dependent", e.Message);
    }

    [Fact]
    public void Paper_scale_is_1_01_times_the_largest_state()
    {
        // SPEC B4: κ = 1.01 · max |z| over all states and units.
        var model = Radd.Fit([Sequence([[0.1, -2.0], [0.4, 0.3], [-0.5, 1.5], [0.2, 0.1], [0.3, -0.7], [0.0, 0.9]],
            [[1.0], [0.2], [-1.0], [0.7], [0.1], [-0.4]])]);
        Assert.Equal(2.02, model.Scale, 12);
    }
}

