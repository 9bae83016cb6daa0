using System.Collections.Immutable;
using HmmRnn.Analysis.Numerics;
using HmmRnn.Analysis.Dynamics;
using HmmRnn.Core;
using HmmRnn.Core.Rnn;

namespace HmmRnn.Host.Tasks.FlipFlop;

/// <summary>Sizes of the flip-flop network's analysis.</summary>
/// <param name="Sequences">Fresh task sequences the network runs (its states are the PCA's data and the searches' starts).</param>
/// <param name="Length">Steps of each.</param>
/// <param name="FixedPointStarts">Visited states the fixed-point search starts from (evenly spaced through the run).</param>
/// <param name="FlowGrid">Grid nodes per axis of the flow field in the PC1–PC2 plane.</param>
public sealed record FlipFlopAnalysisOptions(int Sequences = 16, int Length = 300, int FixedPointStarts = 256, int FlowGrid = 15)
{
    /// <summary>The defaults.</summary>
    public static FlipFlopAnalysisOptions Default { get; } = new();

    /// <summary>The first bad field, or null.</summary>
    public Violation? Problem()
    {
        if (Sequences < 1) return Violation.Of(nameof(Sequences), Sequences, "must be ≥ 1");
        if (Length < 2) return Violation.Of(nameof(Length), Length, "must be ≥ 2");
        if (FixedPointStarts < 1) return Violation.Of(nameof(FixedPointStarts), FixedPointStarts, "must be ≥ 1");
        if (FlowGrid < 2) return Violation.Of(nameof(FlowGrid), FlowGrid, "must be ≥ 2");
        return null;
    }
}

/// <summary>A fixed point of the network with no input, as the report lists it.</summary>
/// <param name="Point">The point (state, q, eigenvalues, stability, kind).</param>
/// <param name="UnstableDimensions">Eigenvalues of modulus above 1 + the marginal tolerance: 0 for an attractor, 1 for a saddle between two.</param>
/// <param name="Memory">The sign of each readout at the point ("+−+"): the memory state it holds.</param>
/// <param name="Pcs">Its coordinates on the first principal components.</param>
public sealed record FlipFlopFixedPoint(FixedPoint Point, int UnstableDimensions, string Memory, ImmutableArray<double> Pcs);

/// <summary>What the analysis found.</summary>
/// <param name="OutputAccuracy">Fraction of outputs (steps × channels) whose sign is the target's, on fresh sequences.</param>
/// <param name="Pca">PCA of the visited states.</param>
/// <param name="Points">Distinct fixed and slow points with no input, attractors first.</param>
/// <param name="Flow">The one-step flow with no input in the PC1–PC2 plane, visited region only.</param>
/// <param name="Visited">Visited states projected on PC1–PC2 (every fourth step), for the figures.</param>
/// <param name="Starts">Starts of the searches (visited states, and midpoints between attractors found).</param>
public sealed record FlipFlopReport(double OutputAccuracy, PcaResult Pca, IReadOnlyList<FlipFlopFixedPoint> Points, FlowFieldResult Flow,
    IReadOnlyList<PlanePoint> Visited, int Starts)
{
    /// <summary>Stable fixed points (the memory states; 2^channels when the task is solved).</summary>
    public int StableFixedPoints => Points.Count(p => p.Point.Kind == FixedPointKind.Fixed && p.Point.Stability == Stability.Stable);
    /// <summary>Fixed points with exactly one unstable direction (the saddles between memory states).</summary>
    public int Saddles => Points.Count(p => p.Point.Kind == FixedPointKind.Fixed && p.Point.Stability == Stability.Unstable && p.UnstableDimensions == 1);
    /// <summary>Other unstable fixed points (two or more unstable directions, e.g. near the origin).</summary>
    public int OtherUnstable => Points.Count(p => p.Point.Kind == FixedPointKind.Fixed && p.Point.Stability == Stability.Unstable && p.UnstableDimensions > 1);
    /// <summary>Distinct memory states (readout sign patterns) held by stable fixed points.</summary>
    public int MemoryStates => Points.Where(p => p.Point.Kind == FixedPointKind.Fixed && p.Point.Stability == Stability.Stable).Select(p => p.Memory).Distinct().Count();
}

/// <summary>
/// Opens up a flip-flop network (Sussillo and Barak 2013): its states on fresh sequences and their PCA, its fixed points
/// with no input (<see cref="TanhFixedPoints.Find"/> from visited states, then from midpoints between the attractors
/// found, where the saddles lie), each classified by its Jacobian and labelled by the readouts' signs, and the flow
/// field. A pure function of the weights, the task's sizes and an <see cref="Rng"/>.
/// </summary>
public static class FlipFlopAnalysis
{
    /// <summary>Runs the analysis.</summary>
    /// <param name="weights">The network (inputs = outputs = channels).</param>
    /// <param name="pulseProbability">The task's pulse probability (for the fresh sequences).</param>
    /// <param name="options">Sizes.</param>
    /// <param name="rng">Draws the sequences.</param>
    /// <exception cref="ArgumentException">options that fail <see cref="FlipFlopAnalysisOptions.Problem"/>, or a network with inputs ≠ outputs.</exception>
    public static FlipFlopReport Run(TanhRnnWeights weights, double pulseProbability, FlipFlopAnalysisOptions options, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Problem() is { } problem) throw problem.ToException();
        if (weights.Inputs != weights.Outputs) throw new ArgumentException($"has {weights.Inputs} inputs and {weights.Outputs} outputs; a flip-flop has one output per channel", nameof(weights));
        int C = weights.Inputs, H = weights.Hidden, T = options.Length;
        var batch = FlipFlopData.Generate(options.Sequences, T, C, pulseProbability, rng);

        var states = new List<ImmutableArray<double>>(options.Sequences * T);
        long agree = 0;
        for (int n = 0; n < batch.Sequences; n++)
        {
            var run = TanhRnn.Run(weights, new double[H], batch.Inputs.AsSpan(n * T * C, T * C));
            for (int t = 0; t < T; t++)
            {
                states.Add(run.Hidden.Slice(t * H, H));
                for (int c = 0; c < C; c++)
                    if (Math.Sign(run.Logits[t * C + c]) == Math.Sign(batch.Targets[(n * T + t) * C + c])) agree++;
            }
        }
        var pca = Pca.Fit(states, Math.Min(3, H));

        var none = new double[C];
        var stride = Math.Max(1, states.Count / options.FixedPointStarts);
        var visited = Enumerable.Range(0, Math.Min(options.FixedPointStarts, states.Count)).Select(i => states[i * stride].ToArray()).ToList();
        var first = TanhFixedPoints.Find(weights, none, visited);
        // Saddles sit between attractors: search again from the midpoint of every pair of attractors found.
        var attractors = first.Fixed.Where(p => p.Stability == Stability.Stable).ToList();
        var midpoints = new List<double[]>();
        for (int i = 0; i < attractors.Count; i++)
            for (int j = i + 1; j < attractors.Count; j++)
                midpoints.Add([.. attractors[i].State.Zip(attractors[j].State, (a, b) => (a + b) / 2)]);
        var second = midpoints.Count > 0 ? TanhFixedPoints.Find(weights, none, midpoints) : new FixedPointResult([], 0, 0);
        var distinct = new List<FixedPoint>();
        foreach (var p in first.Points.Concat(second.Points).OrderBy(p => p.Q))
            if (!distinct.Any(d => Distance(d.State, p.State) < FixedPointOptions.Default.DistinctDistance)) distinct.Add(p);
        var points = distinct
            .Select(p => new FlipFlopFixedPoint(p, p.Eigenvalues.Count(l => l.Magnitude > 1 + FixedPointOptions.Default.MarginalTolerance),
                new string([.. TanhRnn.Logits(weights, p.State.AsSpan()).Select(y => y >= 0 ? '+' : '−')]), pca.Project(p.State)))
            .OrderBy(p => p.Point.Kind).ThenBy(p => p.UnstableDimensions).ThenBy(p => p.Memory, StringComparer.Ordinal).ToList();

        var plane = H >= 2 ? StatePlane.FromPca(pca) : throw new ArgumentException("a flow plane needs at least 2 units", nameof(weights));
        var projected = states.Select(s => plane.Project(s.AsSpan())).ToList();
        var along1 = GridAxis.Covering(projected.Select(p => p.Z1), options.FlowGrid);
        var along2 = GridAxis.Covering(projected.Select(p => p.Z2), options.FlowGrid);
        var flow = FlowField.MaskVisited(FlowField.Compute(weights, none, plane, along1, along2), projected);
        return new FlipFlopReport((double)agree / (states.Count * C), pca, points, flow, [.. projected.Where((_, i) => i % 4 == 0)],
            visited.Count + midpoints.Count);
    }

    private static double Distance(ImmutableArray<double> a, ImmutableArray<double> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
        return Math.Sqrt(s);
    }
}
