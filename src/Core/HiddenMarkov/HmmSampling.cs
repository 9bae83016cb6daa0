using System.Collections.Immutable;

namespace HmmRnn.Core.HiddenMarkov;

/// <summary>A batch of equally long state and output sequences drawn from an HMM.</summary>
/// <param name="Length">T, the length of every sequence.</param>
/// <param name="States">States[n][t], the hidden state of sequence n at step t.</param>
/// <param name="Outputs">Outputs[n][t], the emitted symbol of sequence n at step t.</param>
public sealed record HmmSample(int Length, ImmutableArray<ImmutableArray<int>> States, ImmutableArray<ImmutableArray<int>> Outputs)
{
    /// <summary>N, the number of sequences.</summary>
    public int Count => Outputs.Length;
}

/// <summary>Draws sequences from an HMM, deterministically from a seed.</summary>
public static class HmmSampling
{
    /// <summary>
    /// Draws <paramref name="sequences"/> sequences of <paramref name="length"/> steps. Sequence n uses
    /// the sub-stream <c>rng.Substream(n)</c>, so it does not depend on how many others are drawn
    /// or on the number of threads used.
    /// </summary>
    public static HmmSample Sample(Hmm hmm, int sequences, int length, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(hmm);
        if (sequences < 0) throw new ArgumentOutOfRangeException(nameof(sequences), sequences, "must be ≥ 0");
        if (length <= 0) throw new ArgumentOutOfRangeException(nameof(length), length, "must be positive");
        var states = new ImmutableArray<int>[sequences];
        var outputs = new ImmutableArray<int>[sequences];
        var body = (int n) =>
        {
            var z = new int[length];
            var o = new int[length];
            SampleInto(hmm, rng.Substream(n), z, o);
            states[n] = ImmutableArray.Create(z);
            outputs[n] = ImmutableArray.Create(o);
        };
        if ((long)sequences * length >= 200_000) Parallel.For(0, sequences, body);
        else for (int n = 0; n < sequences; n++) body(n);
        return new HmmSample(length, ImmutableArray.Create(states), ImmutableArray.Create(outputs));
    }

    /// <summary>One sequence into caller-owned buffers (equal lengths); returns the next generator.</summary>
    public static Rng SampleInto(Hmm hmm, Rng rng, Span<int> states, Span<int> outputs)
    {
        ArgumentNullException.ThrowIfNull(hmm);
        if (states.Length != outputs.Length)
            throw new ArgumentException($"states has {states.Length} slots but outputs has {outputs.Length}", nameof(outputs));
        var g = new Generator(rng);
        var transition = hmm.Transition.AsSpan();
        var emission = hmm.Emission.AsSpan();
        int k = hmm.States, v = hmm.Symbols;
        int z = g.Categorical(hmm.Initial.AsSpan());
        for (int t = 0; t < states.Length; t++)
        {
            if (t > 0) z = g.Categorical(transition.Slice(z * k, k));
            states[t] = z;
            outputs[t] = g.Categorical(emission.Slice(z * v, v));
        }
        return g.Current;
    }
}
