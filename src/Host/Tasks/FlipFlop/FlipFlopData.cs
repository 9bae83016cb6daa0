using HmmRnn.Core;

namespace HmmRnn.Host.Tasks.FlipFlop;

/// <summary>
/// Sequences of the 3-bit flip-flop task, row-major [sequence, step, channel]: each input channel carries sparse ±1
/// pulses (and 0 between them), and its target holds the sign of that channel's last pulse. Every channel pulses at
/// step 0, so every target is ±1 from the start: the memory has exactly 2^channels states.
/// </summary>
/// <param name="Sequences">n.</param>
/// <param name="Length">T, steps per sequence.</param>
/// <param name="Channels">C.</param>
/// <param name="Inputs">n × T × C: ±1 at a pulse, 0 elsewhere.</param>
/// <param name="Targets">n × T × C: the sign of the channel's last pulse up to and including step t.</param>
public sealed record FlipFlopBatch(int Sequences, int Length, int Channels, double[] Inputs, double[] Targets);

/// <summary>The flip-flop task's generative process (Sussillo and Barak 2013), a pure function of its sizes and an <see cref="Rng"/>.</summary>
public static class FlipFlopData
{
    /// <summary>
    /// <paramref name="sequences"/> sequences; sequence i draws from <c>rng.Substream(i)</c> alone (so a batch's first
    /// sequences do not depend on how many follow). After step 0, each channel pulses with probability
    /// <paramref name="pulseProbability"/> per step, with a sign + or − at even odds.
    /// </summary>
    /// <exception cref="ArgumentException">a size below 1, or a probability outside [0, 1].</exception>
    public static FlipFlopBatch Generate(int sequences, int length, int channels, double pulseProbability, Rng rng)
    {
        if (sequences < 1) throw new ArgumentOutOfRangeException(nameof(sequences), sequences, "must be ≥ 1");
        if (length < 1) throw new ArgumentOutOfRangeException(nameof(length), length, "must be ≥ 1");
        if (channels < 1) throw new ArgumentOutOfRangeException(nameof(channels), channels, "must be ≥ 1");
        if (!(pulseProbability >= 0 && pulseProbability <= 1)) throw new ArgumentOutOfRangeException(nameof(pulseProbability), pulseProbability, "must be in [0, 1]");
        var inputs = new double[sequences * length * channels];
        var targets = new double[inputs.Length];
        var draws = new double[2 * length * channels];
        var held = new double[channels];
        for (int n = 0; n < sequences; n++)
        {
            rng.Substream(n).FillUniform(draws);
            for (int t = 0; t < length; t++)
                for (int c = 0; c < channels; c++)
                {
                    int at = (n * length + t) * channels + c, d = 2 * (t * channels + c);
                    if (t == 0 || draws[d] < pulseProbability)
                    {
                        held[c] = draws[d + 1] < 0.5 ? -1 : 1;
                        inputs[at] = held[c];
                    }
                    targets[at] = held[c];
                }
        }
        return new FlipFlopBatch(sequences, length, channels, inputs, targets);
    }
}
