using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using HmmRnn.Core;
using HmmRnn.Core.Rnn;
using HmmRnn.Testing;

namespace HmmRnn.Properties;

/// <summary>The tanh RNN reference dynamics against the formula h' = tanh(W_rec h + W_in o + b), written out here.</summary>
public class TanhRnnProperties
{
    /// <summary>A network, a start state and T inputs.</summary>
    public sealed record Case(TanhRnnWeights W, double[] Start, double[] Inputs, int Steps);

    private static Gen<Case> Cases { get; } =
        from w in RnnGen.Tanh(maxHidden: 6, gain: 1.5)
        from steps in Gen.Choose(1, 8)
        from seed in Gen.Choose(0, int.MaxValue)
        select MakeCase(w, steps, seed);

    private static Case MakeCase(TanhRnnWeights w, int steps, int seed)
    {
        var rng = new RngStream(Rng.FromSeed(seed));
        var start = Enumerable.Range(0, w.Hidden).Select(_ => 2 * rng.Uniform() - 1).ToArray();
        var inputs = Enumerable.Range(0, steps * w.Inputs).Select(_ => rng.Normal()).ToArray();
        return new Case(w, start, inputs, steps);
    }

    /// <summary>tanh(Σ_j W_rec[i, j] h_j + Σ_k W_in[i, k] o_k + b_i), indexed directly from the weight arrays.</summary>
    private static double[] Direct(TanhRnnWeights w, double[] h, double[] o) =>
        [.. Enumerable.Range(0, w.Hidden).Select(i => Math.Tanh(
            Enumerable.Range(0, w.Hidden).Sum(j => w.Recurrent[i * w.Hidden + j] * h[j])
            + Enumerable.Range(0, w.Inputs).Sum(k => w.InputWeights[i * w.Inputs + k] * o[k])
            + w.Bias[i]))];

    private static double MaxDiff(IEnumerable<double> a, IEnumerable<double> b) => a.Zip(b, (x, y) => Math.Abs(x - y)).DefaultIfEmpty(0).Max();

    [Property(MaxTest = 300)]
    public Property Step_is_tanh_of_the_affine_map() => Prop.ForAll(Cases.ToArbitrary(), c =>
    {
        var o = c.Inputs[..c.W.Inputs];
        var err = MaxDiff(TanhRnn.Step(c.W, c.Start, o), Direct(c.W, c.Start, o));
        return (err < 1e-12).Label($"Step differs from the formula by {err}");
    });

    [Property(MaxTest = 200)]
    public Property Run_is_repeated_Step_with_the_readout_after_each() => Prop.ForAll(Cases.ToArbitrary(), c =>
    {
        var run = TanhRnn.Run(c.W, c.Start, c.Inputs);
        if (run.Steps != c.Steps) return false.Label($"{run.Steps} steps for {c.Steps} inputs");
        var h = c.Start;
        for (int t = 0; t < c.Steps; t++)
        {
            h = Direct(c.W, h, c.Inputs[(t * c.W.Inputs)..((t + 1) * c.W.Inputs)]);
            var logits = Enumerable.Range(0, c.W.Outputs).Select(o =>
                c.W.ReadoutBias[o] + Enumerable.Range(0, c.W.Hidden).Sum(j => c.W.Readout[o * c.W.Hidden + j] * h[j]));
            var eh = MaxDiff(run.Hidden.Skip(t * c.W.Hidden).Take(c.W.Hidden), h);
            var ey = MaxDiff(run.Logits.Skip(t * c.W.Outputs).Take(c.W.Outputs), logits);
            if (eh > 1e-12 || ey > 1e-12) return false.Label($"step {t}: state off by {eh}, logits by {ey}");
        }
        return true.ToProperty();
    });

    [Property(MaxTest = 300)]
    public Property Softmax_sums_to_one_is_shift_invariant_and_orders_like_the_logits() =>
        Prop.ForAll(Gen.Choose(-50_000, 50_000).Select(i => i / 100.0).ArrayOf().Where(a => a.Length > 0).ToArbitrary(),
            Gen.Choose(-100_000, 100_000).Select(i => i / 10.0).ToArbitrary(), (y, shift) =>
        {
            var p = TanhRnn.Softmax(y);
            var q = TanhRnn.Softmax(y.Select(v => v + shift).ToArray());
            var sum = p.Sum();
            // p_i / p_j = exp(y_i − y_j): checked on the pair holding the largest logit, where p_max is not tiny.
            int top = Array.IndexOf(y, y.Max());
            var ratioOk = Enumerable.Range(0, y.Length).All(i => y[top] - y[i] > 700
                || Math.Abs(p[i] / p[top] - Math.Exp(y[i] - y[top])) <= 1e-12 * Math.Exp(y[i] - y[top]) + 1e-300);
            return (Math.Abs(sum - 1) < 1e-12 && MaxDiff(p, q) < 1e-12 && p.All(v => v >= 0) && ratioOk)
                .Label($"sum {sum}, shift changes it by {MaxDiff(p, q)}, ratios ok {ratioOk}");
        });

    [Property(MaxTest = 100)]
    public Property Probabilities_are_the_softmax_of_the_logits() => Prop.ForAll(Cases.ToArbitrary(), c =>
    {
        var y = TanhRnn.Logits(c.W, c.Start);
        var expected = y.Select(v => Math.Exp(v)).ToArray();
        var z = expected.Sum();
        var err = MaxDiff(TanhRnn.Probabilities(c.W, c.Start), expected.Select(v => v / z));
        return (err < 1e-12).Label($"off by {err}");
    });
}
