using System.Collections.Immutable;
using HmmRnn.Analysis;
using HmmRnn.Core;

namespace HmmRnn.Properties;

/// <summary>The stochastic-resonance measurements, on sequences whose statistics are counted by hand.</summary>
public class ResonanceTests
{
    [Fact]
    public void Measure_counts_frequencies_transitions_and_dwell_times_as_by_hand()
    {
        // A 2-state, 2-symbol HMM that is i.i.d. fair coin flips: exact frequencies (½, ½), every transition ½.
        var hmm = new Hmm(ProbabilityVector.Create(0.5, 0.5), StochasticMatrix.FromRows([[0.5, 0.5], [0.5, 0.5]]),
            StochasticMatrix.FromRows([[1.0, 0.0], [0.0, 1.0]]));
        // RNN: always 0 0 1 1 (pairs 00, 01, 11): frequencies (½, ½); P(0|0) = P(1|0) = ½, P(1|1) = 1 → squared error ¼ + ¼ = ½.
        ImmutableArray<int>[] rnn = [[0, 0, 1, 1], [0, 0, 1, 1]];
        // HMM sample: 0 1 0 1 — every interior run has length 1.
        ImmutableArray<int>[] sample = [[0, 1, 0, 1]];
        var p = Resonance.Measure(hmm, 0.5, rnn, sample);
        Assert.Equal(0.5, p.Sigma);
        Assert.Equal(0.0, p.FrequencyError, 12);
        Assert.Equal(0.5, p.TransitionError, 12);
        // Dwell: the RNN's runs all touch an end (censored) → no complete run → distance 1 for each symbol.
        Assert.Equal(1.0, p.DwellDistance, 12);
        // Same sequences on both sides: dwell distance 0.
        Assert.Equal(0.0, Resonance.Measure(hmm, 0, [[1, 0, 0, 1, 1, 0]], [[1, 0, 0, 1, 1, 0]]).DwellDistance, 12);
    }

    [Fact]
    public void Curve_finds_the_lowest_error_and_whether_it_is_above_zero()
    {
        var curve = Resonance.Curve(
        [
            new ResonancePoint(1, 10, 0.01, 0, 0.3), new ResonancePoint(0, 10, 0.2, 0, 0.1), new ResonancePoint(2, 10, 0.05, 0, 0.2),
        ], 1);
        Assert.Equal([0.0, 1.0, 2.0], curve.Points.Select(p => p.Sigma));
        Assert.Equal(1, curve.BestForTransition);
        Assert.Equal(0, curve.BestForDwell);
        Assert.True(curve.OptimumAboveZero);
        Assert.Equal([0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75, 3], Resonance.Sigmas(1, 13, 3).Select(x => Math.Round(x, 12)));
    }
}
