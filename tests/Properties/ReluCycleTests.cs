using System.Collections.Immutable;
using HmmRnn.Analysis.Dynamics;
using HmmRnn.Core.Rnn;

namespace HmmRnn.Properties;

/// <summary>The exact 2-cycle search (issue 19 item 5) on constructed networks whose cycles are known by hand.</summary>
public class ReluCycleTests
{
    /// <summary>
    /// W with W₁₀ = a, W₀₁ = b and negative drive from units 0 and 1 into units 2 and 3: e₀ ↦ a e₁ ↦ ab e₀. With ab = 1 the
    /// rays e₀ and e₁ form a 2-cycle; the two-step matrix D₁ W D₂ W has one non-zero row, (ab, b W₁₁, b W₁₂, b W₁₃), so its
    /// eigenvalues are ab and 0 (three times): set aside the 1 along the ray, the cycle is stable.
    /// </summary>
    private static ReluRnnWeights Network(double a, double b, double leak = -1)
    {
        double[,] w =
        {
            { 0, b, 0.3, -0.2 },
            { a, 0, 0.1, 0.4 },
            { leak, -0.3, 0.2, 0.1 },
            { -1, -0.3, -0.1, 0.5 },
        };
        var flat = Enumerable.Range(0, 16).Select(i => (float)w[i / 4, i % 4]).ToImmutableArray();
        return new ReluRnnWeights(4, 1, 1, [0f, 0f, 0f, 0f], flat, [1f, 0f, 0f, 0f]);
    }

    private static ImmutableArray<bool> Only(int unit) => [.. Enumerable.Range(0, 4).Select(i => i == unit)];

    /// <summary>Bugs caught: a cycle accepted whose h₂ drives a unit outside S₂, a null vector of the wrong product (W_S₂S₁ W_S₁S₂ is 1 × 1 here too, but of another pair's entries), an unnormalised h₁.</summary>
    [Fact]
    public void A_constructed_two_cycle_is_found_with_its_rays_and_stability()
    {
        var w = Network(2, 0.5);
        var r = Assert.Single(ReluCycles.TwoCycles(w, [(Only(0), Only(1))]));
        Assert.Equal(ReluRayVerdict.FixedRay, r.Verdict);
        Assert.Equal(1, r.NullSpaceDimension);
        Assert.Equal(new[] { 1.0, 0, 0, 0 }, r.H1.ToArray(), new Tol(1e-6));
        Assert.Equal(new[] { 0.0, 2, 0, 0 }, r.H2.ToArray(), new Tol(1e-6));
        Assert.Equal(Stability.Stable, r.Stability);
        Assert.True(r.Residual < 1e-6);
        // Independently: two steps of the map from h₁ return to h₁ (the reference dynamics, zero input).
        var once = ReluRnn.Step(w, r.H1.AsSpan(), [0.0]);
        var twice = ReluRnn.Step(w, once, [0.0]);
        Assert.Equal(r.H2.ToArray(), once, new Tol(1e-6));
        Assert.Equal(r.H1.ToArray(), twice, new Tol(1e-6));
    }

    /// <summary>
    /// ab = 0.8: no cycle, and the 1 × 1 matrix W₀₁ W₁₀ − 1 = −0.2 has the singular value 0.2. A positive drive from e₀ into
    /// unit 2 (outside S₂ = {1}) breaks the cycle's signs although the null space is there. Bug caught: the inactive units'
    /// signs not checked at either step (red: the leaky network reported a cycle).
    /// </summary>
    [Fact]
    public void No_cycle_without_a_unit_eigenvalue_or_with_the_wrong_signs()
    {
        var r = Assert.Single(ReluCycles.TwoCycles(Network(2, 0.4), [(Only(0), Only(1))]));
        Assert.Equal(ReluRayVerdict.NoNullSpace, r.Verdict);
        Assert.Equal(0.2, r.SmallestSingularValue, 1e-6);
        var leakyNetwork = Network(2, 0.5, leak: 1);
        (ImmutableArray<bool>, ImmutableArray<bool>)[] pair = [(Only(0), Only(1))];
        var leaky = Assert.Single(ReluCycles.TwoCycles(leakyNetwork, pair));
        Assert.Equal(ReluRayVerdict.InactiveDriven, leaky.Verdict);
        Assert.True(leaky.H1.IsEmpty);
        Assert.Throws<ArgumentException>(() => ReluCycles.TwoCycles(Network(2, 0.5), [(Only(0), Only(0))]));
    }

    /// <summary>The search takes its pairs from a run: the noise-free orbit e₀, 2e₁, e₀, … has the two ordered pairs, both cycles.</summary>
    [Fact]
    public void The_search_finds_the_cycle_in_a_runs_consecutive_patterns()
    {
        var w = Network(2, 0.5);
        var states = new List<ImmutableArray<double>> { ImmutableArray.Create(1.0, 0, 0, 0) };
        for (int t = 0; t < 9; t++) states.Add([.. ReluRnn.Step(w, states[^1].AsSpan(), [0.0])]);
        var search = ReluCycles.Search(w, states);
        Assert.Equal(2, search.Pairs);
        Assert.Equal(2, search.Cycles.Length);
        Assert.Equal(0, search.Closest, 1e-6);
        var none = ReluCycles.Search(Network(2, 0.4), states);
        Assert.Empty(none.Cycles);
        Assert.Equal(0.2, none.Closest, 1e-6);
    }

    private sealed class Tol(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(double obj) => 0;
    }
}
