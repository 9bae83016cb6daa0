using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using HmmRnn.Core;
using HmmRnn.Core.Rnn;

namespace HmmRnn.Testing;

/// <summary>FsCheck generators of small RNNs. Compose them in your own properties.</summary>
public static class RnnGen
{
    /// <summary>
    /// A tanh RNN with 1–<paramref name="maxHidden"/> units, 1–3 inputs and 1–3 outputs; every weight
    /// standard normal times <paramref name="gain"/> (recurrent weights also divided by √H).
    /// </summary>
    public static Gen<TanhRnnWeights> Tanh(int maxHidden = 5, double gain = 1.0) =>
        from hidden in Gen.Choose(1, maxHidden)
        from inputs in Gen.Choose(1, 3)
        from outputs in Gen.Choose(1, 3)
        from seed in Gen.Choose(int.MinValue, int.MaxValue)
        select RandomTanh(hidden, inputs, outputs, gain, Rng.FromSeed(seed));

    /// <summary>A tanh RNN of the given shape with Gaussian weights (recurrent ones scaled by <paramref name="gain"/> / √H).</summary>
    public static TanhRnnWeights RandomTanh(int hidden, int inputs, int outputs, double gain, Rng rng)
    {
        double[] rec = new double[hidden * hidden], inp = new double[hidden * inputs], bias = new double[hidden],
            readout = new double[outputs * hidden], readoutBias = new double[outputs];
        rng.FillNormal(rec).FillNormal(inp).FillNormal(bias).FillNormal(readout).FillNormal(readoutBias);
        for (int i = 0; i < rec.Length; i++) rec[i] *= gain / Math.Sqrt(hidden);
        for (int i = 0; i < inp.Length; i++) inp[i] *= gain;
        for (int i = 0; i < bias.Length; i++) bias[i] *= gain;
        return new TanhRnnWeights(hidden, inputs, outputs, [.. rec], [.. inp], [.. bias], [.. readout], [.. readoutBias]);
    }
}
