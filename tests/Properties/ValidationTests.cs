using HmmRnn.Core;
using HmmRnn.Core.HiddenMarkov;

namespace HmmRnn.Properties;

/// <summary>Each kind of bad input fails with an exception whose message names the problem.</summary>
public class ValidationTests
{
    private static readonly Hmm Model = HmmCatalogue.LinearChain(2);

    [Fact]
    public void Row_not_summing_to_one_names_the_row_and_its_sum()
    {
        var e = Assert.Throws<ArgumentException>(() => StochasticMatrix.FromRows([0.5, 0.5], [0.1, 0.9], [0.5, 0.47]));
        Assert.Contains("[2] = a sum of 0.97: must sum to 1", e.Message);
    }

    [Fact]
    public void NaN_entry_is_named()
    {
        var e = Assert.Throws<ArgumentException>(() => ProbabilityVector.Create(0.5, double.NaN, 0.5));
        Assert.Contains("[1] = NaN: must be a finite number", e.Message);
    }

    [Fact]
    public void Negative_entry_is_named()
    {
        var e = Assert.Throws<ArgumentException>(() => StochasticMatrix.FromRows([1.1, -0.1], [0.5, 0.5]));
        Assert.Contains("[0][1] = -0.1: must be ≥ 0", e.Message);
    }

    [Fact]
    public void Ragged_rows_are_named()
    {
        var e = Assert.Throws<ArgumentException>(() => StochasticMatrix.FromRows([1.0, 0.0], [1.0]));
        Assert.Contains("[1] = 1 entries: must have 2 entries, as row 0", e.Message);
    }

    [Fact]
    public void Mismatched_shapes_are_named()
    {
        var a = StochasticMatrix.Identity(2);
        var e1 = Assert.Throws<ArgumentException>(() => new Hmm(ProbabilityVector.Uniform(3), a, a));
        Assert.Contains("initial = 3 entries: must have one entry per state (2)", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => new Hmm(ProbabilityVector.Uniform(2), a, StochasticMatrix.Identity(3)));
        Assert.Contains("emission = 3 rows: must have one row per state (2)", e2.Message);
        var e3 = Assert.Throws<ArgumentException>(() => new Hmm(ProbabilityVector.Uniform(2),
            StochasticMatrix.FromRows([0.5, 0.5, 0.0], [0.5, 0.5, 0.0]), a));
        Assert.Contains("transition = 2 × 3: must be square", e3.Message);
    }

    [Fact]
    public void Empty_sequence_is_refused_by_every_inference_function()
    {
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => Filtering.Forward(Model, ReadOnlySpan<int>.Empty)).Message);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => Filtering.LogLikelihood(Model, ReadOnlySpan<int>.Empty)).Message);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => Filtering.Viterbi(Model, ReadOnlySpan<int>.Empty)).Message);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => Filtering.Smooth(Model, ReadOnlySpan<int>.Empty)).Message);
    }

    [Fact]
    public void Symbol_out_of_range_names_the_step_and_value()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Filtering.Forward(Model, [0, 1, 3]));
        Assert.Contains("symbol at t = 2 is 3, outside [0, 2]", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Filtering.LogLikelihood(Model, [-1]));
    }

    [Fact]
    public void Impossible_sequence_has_minus_infinite_likelihood_and_no_posterior()
    {
        // Two absorbing states, each emitting its own symbol, starting in state 0: "0 then 1" is impossible.
        var hmm = new Hmm(ProbabilityVector.Create(1, 0), StochasticMatrix.Identity(2), StochasticMatrix.Identity(2));
        Assert.Equal(double.NegativeInfinity, Filtering.LogLikelihood(hmm, [0, 1]));
        var e = Assert.Throws<ArgumentException>(() => Filtering.Forward(hmm, [0, 1]));
        Assert.Contains("probability 0 at t = 1", e.Message);
    }

    [Fact]
    public void Unknown_catalogue_name_lists_the_known_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => HmmCatalogue.Named("linear9"));
        Assert.Contains("linear2, linear3, linear4, linear5, fully3, cyclic4", e.Message);
    }

    [Fact]
    public void Bad_sizes_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => HmmCatalogue.LinearChain(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => HmmSampling.Sample(Model, 1, 0, new Rng(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ProbabilityVector.Uniform(0));
        Assert.Contains("all weights are zero", Assert.Throws<ArgumentException>(() => ProbabilityVector.Normalize([0.0, 0.0])).Message);
    }
}

public class BatchedLaneTests
{
    [Fact]
    public void An_impossible_sequence_in_one_lane_is_minus_infinity_and_leaves_the_other_lanes_alone()
    {
        // Start in state 0 of two absorbing states that emit their own symbol: only all-zero sequences are possible.
        var hmm = new Hmm(ProbabilityVector.Create(1, 0), StochasticMatrix.Identity(2), StochasticMatrix.Identity(2));
        System.Collections.Immutable.ImmutableArray<int> ok = [0, 0, 0, 0, 0], bad = [0, 0, 1, 0, 0];
        var ll = Filtering.LogLikelihoods(hmm, [ok, ok, bad, ok, ok, bad, ok, ok], parallel: false);
        Assert.Equal("0 0 -Infinity 0 0 -Infinity 0 0", string.Join(" ", ll.Select(x => x.ToString("R", System.Globalization.CultureInfo.InvariantCulture))));
    }
}
