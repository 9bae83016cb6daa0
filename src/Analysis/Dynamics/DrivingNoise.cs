using HmmRnn.Core;

namespace HmmRnn.Analysis.Dynamics;

/// <summary>The Gaussian input that drives a noise-driven network, drawn once for a run (the analyses' one way to draw it).</summary>
internal static class DrivingNoise
{
    /// <summary><paramref name="steps"/> × <paramref name="input"/> draws of N(0, σ²), row-major by step, from <paramref name="rng"/>.</summary>
    public static double[] Draw(int steps, int input, double sigma, Rng rng)
    {
        var noise = new double[steps * input];
        rng.FillNormal(noise);
        for (int i = 0; i < noise.Length; i++) noise[i] *= sigma;
        return noise;
    }
}
