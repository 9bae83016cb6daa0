using HmmRnn.Core.Ibl;
using MathNet.Numerics;

namespace HmmRnn.Golden;

/// <summary>
/// The forced-choice actor's exact accuracy on the paper task, written from SPEC B1/B3 alone (nothing
/// here calls the code under test): the task's constants, an exact block filter, and
/// P(correct | μ, prior) as a one-dimensional integral.
/// </summary>
/// <remarks>
/// Derivation. After the n = 10 observation steps of a trial (σ = 1) the evidence is the pair of sums
/// S_s (stimulus side) ~ N(nμ, √n) and S_o (other side) ~ N(0, √n), independent. The contrast is shared
/// by the steps and uniform on the six values, so P(obs | side) ∝ Σ_k exp(μ_k S_side − nμ_k²/2)
/// · (terms equal for both sides), and the posterior log-odds of the stimulus side is
/// c + f(S_s) − f(S_o), f(x) = log Σ_k exp(μ_k x − nμ_k²/2), c the prior log-odds of the stimulus side.
/// f is not linear, so the posterior depends on both sums, not on d = S_s − S_o alone (f(x) − f(x − d)
/// changes with x for fixed d). f rises from 0 (x → −∞: the μ = 0 term) to ∞, so the actor is right iff
/// S_s ≥ f⁻¹(f(S_o) − c) (always, when f(S_o) − c ≤ 0), and
/// P(correct | μ, c) = ∫ φ(z) Q((f⁻¹(f(√n z) − c) − nμ) / √n) dz, Q the standard normal upper tail.
/// </remarks>
internal static class ForcedChoiceExact
{
    /// <summary>SPEC B1, paper task: at most 10 observation steps; the forced choice acts on the 10th.</summary>
    public const int Steps = 10;

    /// <summary>SPEC B1: p_s.</summary>
    public const double Concordance = 0.8;

    /// <summary>SPEC B1: the contrasts, uniform.</summary>
    public static readonly double[] Contrasts = [0, 0.5, 1.0, 1.5, 2.0, 2.5];

    // SPEC B1 / paper §2.1: after a trial that makes the block l long, it ends with probability 0 below
    // 20, 0.02 from 20 to 99, 1 at 100.
    private const int MinBlock = 20, MaxBlock = 100;
    private const double Hazard = 0.02;

    private static double BlockEnds(int l) => l < MinBlock ? 0 : l < MaxBlock ? Hazard : 1;

    private static double F(double x)
    {
        var max = double.NegativeInfinity;
        foreach (var mu in Contrasts) max = Math.Max(max, mu * x - 0.5 * Steps * mu * mu);
        double s = 0;
        foreach (var mu in Contrasts) s += Math.Exp(mu * x - 0.5 * Steps * mu * mu - max);
        return max + Math.Log(s);
    }

    // f on a grid of x (step 0.005; linear interpolation of the inverse is then good to ~1e-6 in x).
    // Beyond the grid the answer is certain to double precision: x < −100 or x > 150 is ≥ 39 standard
    // deviations from every mean nμ ∈ [0, 25].
    private const double XLo = -100, XHi = 150, Dx = 0.005;
    private static readonly double[] Table =
        [.. Enumerable.Range(0, (int)Math.Round((XHi - XLo) / Dx) + 1).Select(i => F(XLo + i * Dx))];

    private static double FInverse(double t)
    {
        if (t <= Table[0]) return double.NegativeInfinity;
        if (t >= Table[^1]) return double.PositiveInfinity;
        int lo = 0, hi = Table.Length - 1;
        while (hi - lo > 1)
        {
            var mid = (lo + hi) / 2;
            if (Table[mid] <= t) lo = mid; else hi = mid;
        }
        return XLo + Dx * (lo + (t - Table[lo]) / (Table[hi] - Table[lo]));
    }

    // Simpson's rule over z ∈ [−9, 9] (the tails hold < 1e-18), step 0.05: f(√n z) and weight · φ(z).
    private static readonly (double F, double W)[] Nodes = [.. Enumerable.Range(0, 361).Select(i =>
    {
        const double h = 0.05;
        var z = -9 + i * h;
        var simpson = i == 0 || i == 360 ? 1.0 : i % 2 == 1 ? 4.0 : 2.0;
        return (F(Math.Sqrt(Steps) * z), simpson * h / 3 * Math.Exp(-0.5 * z * z) / Math.Sqrt(2 * Math.PI));
    })];

    /// <summary>P(the forced choice is the stimulus side | contrast μ, prior log-odds c of the stimulus side).</summary>
    public static double PCorrect(double mu, double priorLogOdds)
    {
        var sd = Math.Sqrt(Steps);
        double sum = 0;
        foreach (var (fo, w) in Nodes)
        {
            var t = fo - priorLogOdds;
            sum += w * (t <= 0 ? 1 : 0.5 * SpecialFunctions.Erfc((FInverse(t) - Steps * mu) / sd / Math.Sqrt(2)));
        }
        return sum;
    }

    /// <summary>
    /// The exact (semi-Markov) block prediction log P(b_n = right | s_&lt;n) − log P(b_n = left | s_&lt;n)
    /// for each trial of one session, from the true sides revealed by the feedback (the forced choice
    /// always acts): a forward filter over (side, run length l = 1 … 100), a block that has just begun
    /// at the session's start, side uniform.
    /// </summary>
    public static double[] SemiMarkovBlockLogOdds(IReadOnlyList<Side> sides)
    {
        var p = new double[2, MaxBlock + 1]; // [0 = left, 1 = right, run length]
        p[0, 1] = p[1, 1] = 0.5;
        var logOdds = new double[sides.Count];
        for (int n = 0; n < sides.Count; n++)
        {
            double left = 0, right = 0;
            for (int l = 1; l <= MaxBlock; l++) { left += p[0, l]; right += p[1, l]; }
            logOdds[n] = Math.Log(right) - Math.Log(left);
            // Take in s_n (P(s | b) = p_s on the block's side), then predict trial n + 1.
            int seen = sides[n] == Side.Right ? 1 : 0;
            var next = new double[2, MaxBlock + 1];
            double total = 0;
            for (int b = 0; b < 2; b++)
                for (int l = 1; l <= MaxBlock; l++)
                {
                    var q = p[b, l] * (b == seen ? Concordance : 1 - Concordance);
                    total += q;
                    if (l < MaxBlock) next[b, l + 1] += q * (1 - BlockEnds(l));
                    next[1 - b, 1] += q * BlockEnds(l);
                }
            for (int b = 0; b < 2; b++)
                for (int l = 1; l <= MaxBlock; l++) next[b, l] /= total;
            p = next;
        }
        return logOdds;
    }

    /// <summary>The paper's Markov block prediction (hazard 0.02), as log-odds, for comparison.</summary>
    public static double[] MarkovBlockLogOdds(IReadOnlyList<Side> sides)
    {
        double r = 0.5;
        var logOdds = new double[sides.Count];
        for (int n = 0; n < sides.Count; n++)
        {
            logOdds[n] = Math.Log(r) - Math.Log(1 - r);
            double likeR = sides[n] == Side.Right ? Concordance : 1 - Concordance;
            var post = likeR * r / (likeR * r + (1 - likeR) * (1 - r));
            r = post * (1 - Hazard) + (1 - post) * Hazard;
        }
        return logOdds;
    }
}
