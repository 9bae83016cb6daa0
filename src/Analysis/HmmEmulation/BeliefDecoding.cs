using System.Collections.Immutable;
using HmmRnn.Core;
using HmmRnn.Core.HiddenMarkov;
using HmmRnn.Core.Rnn;
using MathNet.Numerics.LinearAlgebra;

namespace HmmRnn.Analysis.HmmEmulation;

/// <summary>How well a linear read-out of the hidden state decodes one Bayesian quantity, on held-out sequences.</summary>
/// <param name="RSquared">1 − SSE / SST over every component of the target on the test sequences (SST about the training mean), decoding from h_t.</param>
/// <param name="LastSymbolRSquared">The same decoding from the one-hot of the network's current output o_t alone: what the last symbol already tells.</param>
/// <param name="JointRSquared">The same decoding from h_t and the one-hot current output together: above <paramref name="LastSymbolRSquared"/>, the state carries belief its output does not show (memory of the past).</param>
/// <param name="ShuffledRSquared">The same decoding from h_t fitted on training pairs whose targets were shuffled across steps: chance (≈ 0 or below).</param>
/// <param name="Components">The target's dimension (HMM states, or symbols for the predictive).</param>
public sealed record DecodingScore(double RSquared, double LastSymbolRSquared, double JointRSquared, double ShuffledRSquared, int Components);

/// <summary>
/// What the hidden state of an HMM-emulating RNN encodes (after Shai et al. 2024, belief-state geometry): linear decoding of the
/// Bayesian belief about the HMM's latent state from h_t.
/// </summary>
/// <param name="Sequences">Noise-driven sequences generated from h = 0.</param>
/// <param name="Length">Steps per sequence.</param>
/// <param name="TrainSequences">Of those, the sequences the decoders were fitted on; the rest are the test split.</param>
/// <param name="Ridge">The ridge penalty λ of every fit (on the weights, not the intercept).</param>
/// <param name="Filtered">The filtered posterior p(z_t | o_1…t), from Core's forward filter on the network's own sampled outputs.</param>
/// <param name="Smoothed">The smoothed posterior p(z_t | o_1…T) (forward–backward), which uses outputs the network has not yet emitted.</param>
/// <param name="Predictive">The next-symbol predictive p(o_t+1 | o_1…t) = Σ filtered · A · B.</param>
public sealed record BeliefDecodingReport(int Sequences, int Length, int TrainSequences, double Ridge,
    DecodingScore Filtered, DecodingScore Smoothed, DecodingScore Predictive);

/// <summary>
/// Decodes the HMM's Bayesian beliefs from an emulating network's hidden states. The network runs as it was trained: from h = 0,
/// Gaussian noise in, each output sampled from the softmax of its logits (Gumbel-max); the exact HMM filters those outputs.
/// Ridge regressions from h_t (and, as baselines, from the one-hot current output, and from h_t with shuffled targets) are fitted
/// on one part of the sequences and scored on the rest.
/// </summary>
public static class BeliefDecoding
{
    /// <summary>Runs the decoding.</summary>
    /// <param name="weights">The network (its outputs are the HMM's symbols).</param>
    /// <param name="hmm">The HMM it emulates.</param>
    /// <param name="sequences">Sequences to generate (≥ 4).</param>
    /// <param name="length">Steps per sequence (≥ 2; the training length T is the natural choice).</param>
    /// <param name="rng">Noise, output sampling and the shuffle.</param>
    /// <param name="trainFraction">Share of the sequences the decoders are fitted on, in (0, 1).</param>
    /// <param name="ridge">λ ≥ 0.</param>
    public static BeliefDecodingReport Run(ReluRnnWeights weights, Hmm hmm, int sequences, int length, Rng rng, double trainFraction = 0.5, double ridge = 1e-3)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(hmm);
        if (weights.Outputs != hmm.Symbols) throw new ArgumentException($"the network has {weights.Outputs} outputs, the HMM {hmm.Symbols} symbols", nameof(weights));
        if (sequences < 4) throw new ArgumentOutOfRangeException(nameof(sequences), sequences, "must be ≥ 4");
        if (length < 2) throw new ArgumentOutOfRangeException(nameof(length), length, "must be ≥ 2");
        if (!(trainFraction > 0 && trainFraction < 1)) throw new ArgumentOutOfRangeException(nameof(trainFraction), trainFraction, "must be in (0, 1)");
        if (!(ridge >= 0 && double.IsFinite(ridge))) throw new ArgumentOutOfRangeException(nameof(ridge), ridge, "must be finite and ≥ 0");

        int H = weights.Hidden, D = weights.Input, V = hmm.Symbols, S = hmm.States;
        int train = Math.Clamp((int)Math.Round(sequences * trainFraction), 1, sequences - 1);
        var hidden = new List<double[]>[2] { [], [] };
        var lastSymbol = new List<double[]>[2] { [], [] };
        var filtered = new List<double[]>[2] { [], [] };
        var smoothed = new List<double[]>[2] { [], [] };
        var predictive = new List<double[]>[2] { [], [] };
        var noise = new double[length * D];
        for (int s = 0; s < sequences; s++)
        {
            int split = s < train ? 0 : 1;
            rng = rng.FillNormal(noise);
            var run = ReluRnn.Run(weights, noise);
            var outputs = new int[length];
            for (int t = 0; t < length; t++)
            {
                int best = 0;
                double bestValue = double.NegativeInfinity;
                for (int v = 0; v < V; v++)
                {
                    (var g, rng) = rng.NextGumbel();
                    var value = run.Logits[t * V + v] + g;
                    if (value > bestValue) (best, bestValue) = (v, value);
                }
                outputs[t] = best;
            }
            var posterior = Filtering.Smooth(hmm, outputs);
            for (int t = 0; t < length; t++)
            {
                hidden[split].Add(run.Hidden.AsSpan().Slice(t * H, H).ToArray());
                var oneHot = new double[V];
                oneHot[outputs[t]] = 1;
                lastSymbol[split].Add(oneHot);
                var f = posterior.Filtered[t].AsSpan().ToArray();
                filtered[split].Add(f);
                smoothed[split].Add(posterior.Smoothed[t].AsSpan().ToArray());
                var next = new double[V];
                for (int z = 0; z < S; z++)
                    for (int z2 = 0; z2 < S; z2++)
                    {
                        var pz = f[z] * hmm.Transition[z, z2];
                        for (int v = 0; v < V; v++) next[v] += pz * hmm.Emission[z2, v];
                    }
                predictive[split].Add(next);
            }
        }
        DecodingScore Score(List<double[]>[] target) => BeliefDecoding.Score(hidden, lastSymbol, target, ridge, rng.Substream(1));
        return new BeliefDecodingReport(sequences, length, train, ridge, Score(filtered), Score(smoothed), Score(predictive));
    }

    /// <summary>
    /// One decoding of a belief from a state, the computation both tasks share (the HMM's posteriors from h_t; the IBL block
    /// posterior from h at a trial's start): held-out R² of ridge decoders from the state, from a baseline (what the network
    /// just saw or emitted), from both, and from the state with the training targets shuffled across rows.
    /// </summary>
    /// <param name="state">[train rows, test rows] of the state.</param>
    /// <param name="baseline">[train, test] of the baseline, row for row.</param>
    /// <param name="target">[train, test] of the belief, row for row.</param>
    /// <param name="ridge">λ ≥ 0.</param>
    /// <param name="rng">The shuffle.</param>
    public static DecodingScore Score(IReadOnlyList<double[]>[] state, IReadOnlyList<double[]>[] baseline, IReadOnlyList<double[]>[] target, double ridge, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(target);
        if (state.Length != 2 || baseline.Length != 2 || target.Length != 2) throw new ArgumentException("each of state, baseline and target is [train, test]");
        for (int k = 0; k < 2; k++)
            if (state[k].Count != target[k].Count || baseline[k].Count != target[k].Count)
                throw new ArgumentException($"split {k}: {state[k].Count} states, {baseline[k].Count} baselines, {target[k].Count} targets", nameof(target));
        var joint = new[] { 0, 1 }.Select(k => (IReadOnlyList<double[]>)state[k].Zip(baseline[k], (h, o) => h.Concat(o).ToArray()).ToList()).ToArray();
        var permutation = Enumerable.Range(0, state[0].Count).ToArray();
        rng.Shuffle<int>(permutation);
        return new DecodingScore(
            HeldOutRSquared(state[0], target[0], state[1], target[1], ridge),
            HeldOutRSquared(baseline[0], target[0], baseline[1], target[1], ridge),
            HeldOutRSquared(joint[0], target[0], joint[1], target[1], ridge),
            HeldOutRSquared(state[0], [.. permutation.Select(i => target[0][i])], state[1], target[1], ridge),
            target[0][0].Length);
    }

    /// <summary>
    /// Fits y ≈ W x + b by ridge regression on the training rows (λ on W only) and returns the test rows' 1 − SSE / SST, pooled over
    /// the target's components, SST about the training targets' mean (so that a decoder no better than that mean scores ≤ 0).
    /// </summary>
    public static double HeldOutRSquared(IReadOnlyList<double[]> xTrain, IReadOnlyList<double[]> yTrain, IReadOnlyList<double[]> xTest,
        IReadOnlyList<double[]> yTest, double ridge)
    {
        ArgumentNullException.ThrowIfNull(xTrain);
        ArgumentNullException.ThrowIfNull(yTrain);
        ArgumentNullException.ThrowIfNull(xTest);
        ArgumentNullException.ThrowIfNull(yTest);
        if (xTrain.Count == 0 || xTrain.Count != yTrain.Count) throw new ArgumentException($"{xTrain.Count} training rows against {yTrain.Count} targets", nameof(yTrain));
        if (xTest.Count == 0 || xTest.Count != yTest.Count) throw new ArgumentException($"{xTest.Count} test rows against {yTest.Count} targets", nameof(yTest));
        int p = xTrain[0].Length + 1, k = yTrain[0].Length;
        var x = Matrix<double>.Build.Dense(xTrain.Count, p, (i, j) => j < p - 1 ? xTrain[i][j] : 1);
        var y = Matrix<double>.Build.Dense(yTrain.Count, k, (i, j) => yTrain[i][j]);
        var gram = x.TransposeThisAndMultiply(x);
        for (int j = 0; j < p - 1; j++) gram[j, j] += ridge;
        var beta = gram.Solve(x.TransposeThisAndMultiply(y));
        var mean = new double[k];
        foreach (var row in yTrain)
            for (int j = 0; j < k; j++) mean[j] += row[j] / yTrain.Count;
        double sse = 0, sst = 0;
        for (int i = 0; i < xTest.Count; i++)
            for (int j = 0; j < k; j++)
            {
                double predicted = beta[p - 1, j];
                for (int q = 0; q < p - 1; q++) predicted += beta[q, j] * xTest[i][q];
                sse += Math.Pow(yTest[i][j] - predicted, 2);
                sst += Math.Pow(yTest[i][j] - mean[j], 2);
            }
        return sst > 0 ? 1 - sse / sst : double.NaN;
    }
}
