using HmmRnn.Core.Rnn;

namespace HmmRnn.Testing;

/// <summary>Small ReLU networks whose long-run behaviour is known in closed form, for tests of dynamics checks.</summary>
public static class ConstructedNetworks
{
    /// <summary>
    /// Recurrence a·I on 6 units, driven by 3 noise inputs through fixed weights ±(0.3 … 0.7) of alternating sign, 3 outputs:
    /// for a &lt; 1 each unit is a rectified AR(1) process with a stationary scale set by the noise (bounded); for a &gt; 1 a
    /// unit grows as a^t whenever its drive is positive (unbounded).
    /// </summary>
    public static ReluRnnWeights Diagonal(double a)
    {
        const int H = 6, D = 3;
        var whh = new float[H * H];
        for (int i = 0; i < H; i++) whh[i * H + i] = (float)a;
        var wih = Enumerable.Range(0, H * D).Select(i => (float)((i % 2 == 0 ? 1 : -1) * (0.3 + 0.1 * (i % 5)))).ToArray();
        return new ReluRnnWeights(H, D, 3, [.. wih], [.. whh], [.. Enumerable.Repeat(0.1f, 3 * H)]);
    }
}
