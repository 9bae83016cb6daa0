namespace HmmRnn.Core.HiddenMarkov;

/// <summary>
/// A discrete hidden Markov model: initial state distribution, state transition matrix
/// (K × K) and emission matrix (K states × V symbols).
/// </summary>
public sealed record Hmm
{
    /// <summary>Builds a model after checking that the shapes agree.</summary>
    /// <exception cref="ArgumentException">the shapes disagree; the message names both.</exception>
    public Hmm(ProbabilityVector initial, StochasticMatrix transition, StochasticMatrix emission)
    {
        ArgumentNullException.ThrowIfNull(initial);
        ArgumentNullException.ThrowIfNull(transition);
        ArgumentNullException.ThrowIfNull(emission);
        if (ShapeProblem(initial.Count, transition.Rows, transition.Columns, emission.Rows) is { } problem) throw problem.ToException();
        Initial = initial;
        Transition = transition;
        Emission = emission;
    }

    /// <summary>
    /// Why matrices given as plain arrays (an experiment file's) do not make a model, as data, or null: the first problem of
    /// <c>initial</c>, <c>transition</c> or <c>emission</c> (<see cref="ProbabilityVector.Problem"/>,
    /// <see cref="StochasticMatrix.Problem"/>), then of their shapes; the field names the array ("transition[1]").
    /// </summary>
    public static Violation? Problem(double[]? initial, double[][]? transition, double[][]? emission) =>
        (initial is null ? Violation.Of("initial", null, "required") : ProbabilityVector.Problem(initial, "initial"))
        ?? StochasticMatrix.Problem(transition, "transition") ?? StochasticMatrix.Problem(emission, "emission")
        ?? ShapeProblem(initial!.Length, transition!.Length, transition[0].Length, emission!.Length);

    /// <summary>The shapes' agreement: a square transition matrix, one initial probability and one emission row per state.</summary>
    private static Violation? ShapeProblem(int initial, int states, int transitionColumns, int emissionRows) =>
        states != transitionColumns ? Violation.Of("transition", $"{states} × {transitionColumns}", "must be square")
        : initial != states ? Violation.Of("initial", $"{initial} entries", $"must have one entry per state ({states})")
        : emissionRows != states ? Violation.Of("emission", $"{emissionRows} rows", $"must have one row per state ({states})")
        : null;

    /// <summary>P(z_0 = k).</summary>
    public ProbabilityVector Initial { get; }

    /// <summary>P(z_{t+1} = j | z_t = i) at row i, column j.</summary>
    public StochasticMatrix Transition { get; }

    /// <summary>P(o_t = v | z_t = k) at row k, column v.</summary>
    public StochasticMatrix Emission { get; }

    /// <summary>K, the number of hidden states.</summary>
    public int States => Transition.Rows;

    /// <summary>V, the number of output symbols.</summary>
    public int Symbols => Emission.Columns;

    /// <summary>The same model started from another initial distribution.</summary>
    public Hmm WithInitial(ProbabilityVector initial) => new(initial, Transition, Emission);

    /// <summary>True when the sequence is non-empty and every symbol is in [0, V).</summary>
    public bool AreValidOutputs(ReadOnlySpan<int> outputs)
    {
        if (outputs.IsEmpty) return false;
        foreach (var o in outputs)
            if ((uint)o >= (uint)Symbols) return false;
        return true;
    }

    /// <summary>Throws unless every symbol of <paramref name="outputs"/> is in [0, V) and there is at least one.</summary>
    public void CheckOutputs(ReadOnlySpan<int> outputs, string name = "outputs")
    {
        if (outputs.IsEmpty) throw new ArgumentException($"{name}: the sequence is empty", name);
        for (int t = 0; t < outputs.Length; t++)
            if ((uint)outputs[t] >= (uint)Symbols)
                throw new ArgumentOutOfRangeException(name, outputs[t], $"{name}: symbol at t = {t} is {outputs[t]}, outside [0, {Symbols - 1}]");
    }
}

/// <summary>The structural family of a catalogue model (it sets, e.g., the paper's gradient clip).</summary>
public enum HmmFamily
{
    /// <summary>States on a line; neighbours only.</summary>
    LinearChain,
    /// <summary>Every state reaches every other.</summary>
    FullyConnected,
    /// <summary>States on a ring; neighbours only.</summary>
    Cyclic,
}

/// <summary>A named model of the paper's catalogue with the sequence length the paper trains on.</summary>
/// <param name="Name">The catalogue name, e.g. "linear3".</param>
/// <param name="Family">Its structural family.</param>
/// <param name="Hmm">The model.</param>
/// <param name="SequenceLength">The sequence length T the paper trains and evaluates on.</param>
/// <param name="Source">Where the model and its numbers come from.</param>
public sealed record CatalogueEntry(string Name, HmmFamily Family, Hmm Hmm, int SequenceLength, string Source);

/// <summary>
/// The HMMs of Torre et al. (NeurIPS 2025), §3.1 and Appendix A, by name and by constructor.
/// </summary>
public static class HmmCatalogue
{
    private const string PaperSource = "Torre et al. 2025, §3.1 / App. A (shared/SPEC.md A1)";

    /// <summary>
    /// Linear chain of M ≥ 2 states: q = 0.05^(1/(M−1)); end states stay with 1−q, interior states
    /// with 1−2q, moving to each neighbour with q. State i (a = i/(M−1)) emits
    /// [0.99(1−a), 0.01, 0.99a]; the start is uniform.
    /// </summary>
    public static Hmm LinearChain(int states)
    {
        if (states < 2) throw new ArgumentOutOfRangeException(nameof(states), states, "a linear chain needs at least 2 states");
        var q = Math.Pow(0.05, 1.0 / (states - 1));
        var a = new double[states][];
        var b = new double[states][];
        for (int i = 0; i < states; i++)
        {
            a[i] = new double[states];
            if (i > 0) a[i][i - 1] = q;
            if (i < states - 1) a[i][i + 1] = q;
            a[i][i] = 1 - (i > 0 ? q : 0) - (i < states - 1 ? q : 0);
            var frac = (double)i / (states - 1);
            b[i] = [0.99 * (1 - frac), 0.01, 0.99 * frac];
        }
        return new Hmm(ProbabilityVector.Uniform(states),
            StochasticMatrix.FromRows(a, "transition"), StochasticMatrix.FromRows(b, "emission"));
    }

    /// <summary>
    /// Fully connected, M ≥ 2 states and M symbols: stay with <paramref name="stay"/> (paper 0.95), move to
    /// each other state with (1−stay)/(M−1); emit the own symbol with <paramref name="ownSymbol"/>
    /// (paper 0.98), each other with (1−ownSymbol)/(M−1); uniform start.
    /// </summary>
    public static Hmm FullyConnected(int states, double stay = 0.95, double ownSymbol = 0.98)
    {
        if (states < 2) throw new ArgumentOutOfRangeException(nameof(states), states, "needs at least 2 states");
        CheckProbability(stay, nameof(stay));
        CheckProbability(ownSymbol, nameof(ownSymbol));
        var a = new double[states][];
        var b = new double[states][];
        for (int i = 0; i < states; i++)
        {
            a[i] = new double[states];
            b[i] = new double[states];
            for (int j = 0; j < states; j++)
            {
                a[i][j] = i == j ? stay : (1 - stay) / (states - 1);
                b[i][j] = i == j ? ownSymbol : (1 - ownSymbol) / (states - 1);
            }
        }
        return new Hmm(ProbabilityVector.Uniform(states),
            StochasticMatrix.FromRows(a, "transition"), StochasticMatrix.FromRows(b, "emission"));
    }

    /// <summary>
    /// Cyclic, M ≥ 3 states on a ring: stay with <paramref name="stay"/> (paper 0.95), move to each ring
    /// neighbour with (1−stay)/2; emissions as given (one row per state); uniform start.
    /// </summary>
    public static Hmm Cyclic(int states, StochasticMatrix emission, double stay = 0.95)
    {
        if (states < 3) throw new ArgumentOutOfRangeException(nameof(states), states, "a ring needs at least 3 states");
        ArgumentNullException.ThrowIfNull(emission);
        CheckProbability(stay, nameof(stay));
        var a = new double[states][];
        for (int i = 0; i < states; i++)
        {
            a[i] = new double[states];
            a[i][i] = stay;
            a[i][(i + 1) % states] += (1 - stay) / 2;
            a[i][(i + states - 1) % states] += (1 - stay) / 2;
        }
        return new Hmm(ProbabilityVector.Uniform(states), StochasticMatrix.FromRows(a, "transition"), emission);
    }

    /// <summary>The paper's 4-state ring, emission rows [.9,.1,0], [.1,.9,0], [0,.1,.9], [0,.9,.1].</summary>
    public static Hmm Cyclic4() => Cyclic(4, StochasticMatrix.FromRows(
        [0.9, 0.1, 0.0], [0.1, 0.9, 0.0], [0.0, 0.1, 0.9], [0.0, 0.9, 0.1]));

    /// <summary>The six models of the paper with their sequence lengths (SPEC A1).</summary>
    public static IReadOnlyList<CatalogueEntry> Paper { get; } =
    [
        new("linear2", HmmFamily.LinearChain, LinearChain(2), 100, PaperSource),
        new("linear3", HmmFamily.LinearChain, LinearChain(3), 30, PaperSource),
        new("linear4", HmmFamily.LinearChain, LinearChain(4), 30, PaperSource),
        new("linear5", HmmFamily.LinearChain, LinearChain(5), 40, PaperSource),
        new("fully3", HmmFamily.FullyConnected, FullyConnected(3), 30, PaperSource),
        new("cyclic4", HmmFamily.Cyclic, Cyclic4(), 40, PaperSource),
    ];

    /// <summary>The catalogue's names, in order.</summary>
    public static IReadOnlyList<string> Names { get; } = Paper.Select(e => e.Name).ToArray();

    /// <summary>
    /// Why <paramref name="name"/> names no catalogue model (case-insensitive), as data — field "name", the name, the rule
    /// "not a catalogue model; known: …" — or null when it names one.
    /// </summary>
    public static Violation? Problem(string? name) =>
        name is not null && Paper.Any(e => string.Equals(e.Name, name.Trim(), StringComparison.OrdinalIgnoreCase)) ? null
            : Violation.Of("name", name, $"not a catalogue model; known: {string.Join(", ", Names)}");

    /// <summary>A catalogue model by name (case-insensitive).</summary>
    /// <exception cref="ArgumentException">an unknown name; the message lists the known ones.</exception>
    public static CatalogueEntry Named(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var e in Paper)
            if (string.Equals(e.Name, name.Trim(), StringComparison.OrdinalIgnoreCase)) return e;
        throw new ArgumentException($"unknown HMM '{name}'; known: {string.Join(", ", Names)}", nameof(name));
    }

    private static void CheckProbability(double p, string name)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(name, p, $"{name} must be a probability in [0, 1]");
    }
}
