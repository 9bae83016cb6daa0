using System.Collections.Immutable;
using HmmRnn.Core;
using HmmRnn.Core.Rnn;

namespace HmmRnn.Properties;

/// <summary>
/// A hand-built noise-driven ReLU RNN with two slow clusters and two planted kick units (issue 9), for testing
/// <see cref="HmmRnn.Analysis.Dynamics.KickUnits"/> on real dynamics rather than on planted trajectories.
/// <para>
/// Units (H = 20) and what drives them (every unit has at most one noise channel of its own; x ~ N(0, I)). The numbers
/// are the defaults of <see cref="Build"/>: g = 0.9, c = 1, ρ = 0.1, λ = 0.8, β = 0.6, γ = 1, ε = 0.
/// <list type="bullet">
/// <item>Pools A = {0, 1, 2, 3} and B = {4, 5, 6, 7}: the readout reads symbol 0 as Σ A and symbol 1 as Σ B. A pool unit
/// gets g/4 from each unit of its pool, −c/4 from each of the other pool, ρ from each rectifier, β from the kick unit
/// that enters its pool, and private noise ε. The pool sums obey S_A' = g S_A − c S_B + 4ρ r + 4β k_BA + …: the drive r
/// is common, so the difference S_A − S_B is untouched by it and, while both pools are on, grows by g + c &gt; 1 per
/// step — a winner-take-all pair with two slow clusters (A on, B silent; or the reverse), the pool on at about
/// 4ρ E|r| / (1 − g) ≈ 6.4.</item>
/// <item>Rectifiers 8–11: pairs ReLU(±x) on two channels, so their sum r is |x₀| + |x₁| ≥ 0: a bias-free network has no
/// constant to hold a pool up, and this is the positive drive both pools share (its push on the readout difference is 0).</item>
/// <item>Kick units 12 (A → B) and 13 (B → A): k' = ReLU(λ k + x_k − γ Σ(pool it enters)). Each integrates its own noise
/// while the system sits in the pool it leaves, is held at 0 by the pool it enters, and excites the pool it enters by β
/// per unit; a transition happens when it has integrated enough noise to light that pool against the inhibition c·S/4
/// of the current one (push (a_to − a_from)·W[:, k] = 4β = 2.4).</item>
/// <item>Decoy 14: a copy of kick unit 12 one step late (it rises before A → B too) whose only output pushes toward A
/// (+0.01 to A, −0.01 to B): it rises but does not push.</item>
/// <item>Distractors 15–19: noise integrators (λ) with small random outgoing weights (±0.02) onto the pools: they push
/// a little, either way, but do not rise before transitions.</item>
/// </list>
/// </para>
/// </summary>
internal static class PlantedKickNetwork
{
    public const int Hidden = 20;
    public static readonly int[] PoolA = [0, 1, 2, 3], PoolB = [4, 5, 6, 7], Rectifiers = [8, 9, 10, 11];
    public const int KickAB = 12, KickBA = 13, Decoy = 14;
    public static readonly int[] Distractors = [15, 16, 17, 18, 19];
    public static readonly int[] Kicks = [KickAB, KickBA];

    public static ReluRnnWeights Build(double g = 0.9, double c = 1.0, double rho = 0.1, double lambda = 0.8, double beta = 0.6,
        double gamma = 1.0, double epsilon = 0.0, double distractor = 0.02, long seed = 1)
    {
        const int H = Hidden;
        var rec = new double[H * H];
        var inputs = new List<(int Unit, double Weight)[]>(); // one channel per entry: which units read it, with what weight
        void W(int to, int from, double v) => rec[to * H + from] = v;
        for (int pair = 0; pair < 2; pair++) inputs.Add([(Rectifiers[2 * pair], 1.0), (Rectifiers[2 * pair + 1], -1.0)]);
        foreach (var (pool, other, enter) in new[] { (PoolA, PoolB, KickBA), (PoolB, PoolA, KickAB) })
            foreach (var i in pool)
            {
                foreach (var j in pool) W(i, j, g / pool.Length);
                foreach (var j in other) W(i, j, -c / other.Length);
                foreach (var r in Rectifiers) W(i, r, rho);
                W(i, enter, beta);
                if (epsilon > 0) inputs.Add([(i, epsilon)]);
            }
        foreach (var (kick, enters) in new[] { (KickAB, PoolB), (KickBA, PoolA) })
        {
            W(kick, kick, lambda);
            foreach (var j in enters) W(kick, j, -gamma);
            inputs.Add([(kick, 1.0)]);
        }
        W(Decoy, KickAB, 1);
        foreach (var i in PoolA) W(i, Decoy, 0.01);
        foreach (var i in PoolB) W(i, Decoy, -0.01);
        var random = new RngStream(Rng.FromSeed(seed));
        foreach (var d in Distractors)
        {
            W(d, d, lambda);
            inputs.Add([(d, 1.0)]);
            foreach (var i in PoolA.Concat(PoolB)) W(i, d, distractor * (2 * random.Uniform() - 1));
        }
        int D = inputs.Count;
        var wih = new double[H * D];
        for (int k = 0; k < D; k++)
            foreach (var (unit, weight) in inputs[k]) wih[unit * D + k] = weight;
        var readout = new double[2 * H];
        foreach (var i in PoolA) readout[i] = 1;
        foreach (var i in PoolB) readout[H + i] = 1;
        static ImmutableArray<float> F(double[] a) => [.. a.Select(x => (float)x)];
        return new ReluRnnWeights(H, D, 2, F(wih), F(rec), F(readout));
    }

    /// <summary>A noisy run from h = 0 at σ = 1: states and arg-max symbols.</summary>
    public static (ImmutableArray<double>[] States, int[] Symbols) Run(ReluRnnWeights w, int steps, Rng rng)
    {
        var noise = new double[steps * w.Input];
        rng.FillNormal(noise);
        var run = ReluRnn.Run(w, noise);
        var states = new ImmutableArray<double>[steps];
        var symbols = new int[steps];
        for (int t = 0; t < steps; t++)
        {
            states[t] = ImmutableArray.Create(run.Hidden.AsSpan(t * w.Hidden, w.Hidden));
            symbols[t] = run.Logits[t * 2 + 1] > run.Logits[t * 2] ? 1 : 0;
        }
        return (states, symbols);
    }
}
