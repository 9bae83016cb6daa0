using HmmRnn.Core.HiddenMarkov;

namespace HmmRnn.Properties;

/// <summary>
/// The oracle: exact HMM quantities by enumerating every state path (K^T of them), with no
/// recursion shared with the code under test. Only for tiny models.
/// </summary>
internal static class BruteForce
{
    /// <summary>Every state path of length T with its joint probability P(z, o).</summary>
    public static IEnumerable<(int[] Path, double Joint)> Paths(Hmm hmm, IReadOnlyList<int> o)
    {
        int k = hmm.States, T = o.Count;
        var total = (int)Math.Pow(k, T);
        for (int code = 0; code < total; code++)
        {
            var z = new int[T];
            var c = code;
            for (int t = 0; t < T; t++) { z[t] = c % k; c /= k; }
            var p = hmm.Initial[z[0]] * hmm.Emission[z[0], o[0]];
            for (int t = 1; t < T; t++) p *= hmm.Transition[z[t - 1], z[t]] * hmm.Emission[z[t], o[t]];
            yield return (z, p);
        }
    }

    public static double Likelihood(Hmm hmm, IReadOnlyList<int> o) => Paths(hmm, o).Sum(p => p.Joint);

    /// <summary>P(z_t = i | o_{from..to}) computed from paths over o_{0..to}: marginal at t of the prefix up to <paramref name="to"/>.</summary>
    public static double[] Marginal(Hmm hmm, IReadOnlyList<int> o, int t, int to)
    {
        var prefix = o.Take(to + 1).ToArray();
        var m = new double[hmm.States];
        foreach (var (z, p) in Paths(hmm, prefix)) m[z[t]] += p;
        var s = m.Sum();
        return m.Select(x => x / s).ToArray();
    }
}
