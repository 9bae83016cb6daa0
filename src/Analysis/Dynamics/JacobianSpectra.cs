using System.Collections.Immutable;
using Complex = System.Numerics.Complex;
using HmmRnn.Core.Rnn;
using MathNet.Numerics.LinearAlgebra;

namespace HmmRnn.Analysis.Dynamics;

/// <summary>How <see cref="JacobianSpectra"/> counts eigenvalues.</summary>
/// <param name="UnstableModulus">|λ| above this counts as unstable (the reference: 1, i.e. Re μ &gt; 0 after the Möbius transform).</param>
/// <param name="CriticalReal">Near-critical needs |Re μ| below this, μ = (λ − 1)/(λ + 1) (reference: 0.1).</param>
/// <param name="CriticalImaginary">
/// Near-critical needs Im μ above this (reference <c>compute_CE</c>: 0.06; its <c>Hopf_eigs_stat</c> uses 0.05). Im μ &gt; 0
/// holds exactly for Im λ &gt; 0, so each complex-conjugate pair counts once.
/// </param>
public sealed record JacobianOptions(double UnstableModulus = 1, double CriticalReal = 0.1, double CriticalImaginary = 0.06)
{
    /// <summary>The reference's values above.</summary>
    public static JacobianOptions Default { get; } = new();
}

/// <summary>The spectrum of one Jacobian J = D_S W_hh of the ReLU RNN.</summary>
/// <param name="Pattern">S: the units whose pre-activation is positive (D_S = diag(1_S)).</param>
/// <param name="Eigenvalues">The H eigenvalues of D_S W_hh, largest modulus first.</param>
/// <param name="Unstable">How many have |λ| &gt; <see cref="JacobianOptions.UnstableModulus"/>.</param>
/// <param name="NearCriticalPairs">How many complex pairs are near-critical (<see cref="JacobianSpectra.IsNearCritical"/>), each pair once.</param>
public sealed record JacobianStep(ImmutableArray<bool> Pattern, ImmutableArray<Complex> Eigenvalues, int Unstable, int NearCriticalPairs)
{
    /// <summary>The largest |λ|.</summary>
    public double SpectralRadius => Eigenvalues.Length == 0 ? 0 : Eigenvalues[0].Magnitude;
}

/// <summary>
/// Jacobian spectra of the bias-free ReLU RNN h_t = ReLU(W_hh h_{t−1} + W_ih x_t) along trajectories
/// (Torre et al. 2025; SPEC A5; issue 9 item 5): J_t = diag(1[W_hh h_{t−1} + W_ih x_t &gt; 0]) W_hh, its
/// eigenvalues, the unstable ones (|λ| &gt; 1) and the near-critical complex pairs of the reference's
/// gain-modulation statistic (Möbius transform μ = (λ − 1)/(λ + 1), |Re μ| &lt; 0.1, Im μ &gt; 0.06).
/// <para>
/// The eigenvalues of D_S W are computed from the principal submatrix W_SS: after permuting S first,
/// D_S W = [[W_SS, W_S,rest], [0, 0]] is block triangular, so its spectrum is that of W_SS and H − |S|
/// zeros. Steps with the same pattern share one eigen-decomposition.
/// </para>
/// </summary>
public static class JacobianSpectra
{
    /// <summary>The H eigenvalues of D_S W_hh, largest modulus first (ties: larger real part, then larger imaginary part).</summary>
    /// <param name="weights">The network.</param>
    /// <param name="pattern">S, one flag per unit.</param>
    public static ImmutableArray<Complex> Eigenvalues(ReluRnnWeights weights, ImmutableArray<bool> pattern)
    {
        ArgumentNullException.ThrowIfNull(weights);
        CheckPattern(pattern, weights.Hidden, nameof(pattern));
        return Eigenvalues(Recurrent(weights), weights.Hidden, pattern.AsSpan());
    }

    /// <summary>The spectra of J_t for pre-activations a_t = W_hh h_{t−1} + W_ih x_t (pattern: a_t,i &gt; 0).</summary>
    /// <param name="weights">The network.</param>
    /// <param name="preActivations">a_t per step, each of length H.</param>
    /// <param name="options">Counting thresholds (default <see cref="JacobianOptions.Default"/>).</param>
    public static ImmutableArray<JacobianStep> FromPreActivations(ReluRnnWeights weights, IReadOnlyList<ImmutableArray<double>> preActivations,
        JacobianOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(preActivations);
        options = Check(options);
        var patterns = new ImmutableArray<bool>[preActivations.Count];
        for (int t = 0; t < patterns.Length; t++)
        {
            var a = preActivations[t];
            CheckVector(a, weights.Hidden, t, nameof(preActivations));
            patterns[t] = [.. a.Select(v => v > 0)];
        }
        return Spectra(weights, patterns, options);
    }

    /// <summary>
    /// The spectra of J_1 … J_T along a run: <paramref name="states"/> are h_0 … h_T and <paramref name="inputs"/>
    /// x_1 … x_T (so states has one entry more than inputs); J_t uses a_t = W_hh h_{t−1} + W_ih x_t.
    /// </summary>
    /// <param name="weights">The network.</param>
    /// <param name="states">h_0 … h_T, each of length H.</param>
    /// <param name="inputs">x_1 … x_T, each of length D.</param>
    /// <param name="options">Counting thresholds (default <see cref="JacobianOptions.Default"/>).</param>
    public static ImmutableArray<JacobianStep> FromStates(ReluRnnWeights weights, IReadOnlyList<ImmutableArray<double>> states,
        IReadOnlyList<ImmutableArray<double>> inputs, JacobianOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(states);
        ArgumentNullException.ThrowIfNull(inputs);
        if (states.Count != inputs.Count + 1)
            throw new ArgumentException($"has {states.Count} states; h_0 … h_T for {inputs.Count} inputs needs {inputs.Count + 1}", nameof(states));
        int H = weights.Hidden, D = weights.Input;
        var pre = new ImmutableArray<double>[inputs.Count];
        for (int t = 0; t < inputs.Count; t++)
        {
            CheckVector(states[t], H, t, nameof(states));
            CheckVector(inputs[t], D, t, nameof(inputs));
            pre[t] = ImmutableArray.Create(ReluRnn.PreActivation(weights, states[t].AsSpan(), inputs[t].AsSpan()));
        }
        CheckVector(states[inputs.Count], H, inputs.Count, nameof(states));
        return FromPreActivations(weights, pre, options);
    }

    /// <summary>
    /// The reference's per-state count (its residency figure): at each state h, J = diag(1[W_hh h &gt; 0]) W_hh,
    /// the Jacobian of the next step with the input left out (x = 0).
    /// </summary>
    /// <param name="weights">The network.</param>
    /// <param name="states">States h, each of length H.</param>
    /// <param name="options">Counting thresholds (default <see cref="JacobianOptions.Default"/>).</param>
    public static ImmutableArray<JacobianStep> AtStates(ReluRnnWeights weights, IReadOnlyList<ImmutableArray<double>> states, JacobianOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(states);
        int H = weights.Hidden;
        var pre = new ImmutableArray<double>[states.Count];
        for (int t = 0; t < states.Count; t++)
        {
            CheckVector(states[t], H, t, nameof(states));
            var a = new double[H];
            for (int i = 0; i < H; i++)
            {
                double s = 0;
                for (int j = 0; j < H; j++) s += weights.RecurrentWeights[i * H + j] * states[t][j];
                a[i] = s;
            }
            pre[t] = ImmutableArray.Create(a);
        }
        return FromPreActivations(weights, pre, options);
    }

    /// <summary>The Möbius transform μ = (λ − 1)/(λ + 1): the unit circle goes to the imaginary axis, its inside to Re μ &lt; 0 (infinite at λ = −1).</summary>
    /// <param name="lambda">An eigenvalue.</param>
    public static Complex Mobius(Complex lambda) =>
        lambda == -Complex.One ? new Complex(double.PositiveInfinity, 0) : (lambda - 1) / (lambda + 1);

    /// <summary>Whether |λ| &gt; <see cref="JacobianOptions.UnstableModulus"/>.</summary>
    /// <param name="lambda">An eigenvalue.</param>
    /// <param name="options">Thresholds (default <see cref="JacobianOptions.Default"/>).</param>
    public static bool IsUnstable(Complex lambda, JacobianOptions? options = null) => lambda.Magnitude > Check(options).UnstableModulus;

    /// <summary>
    /// The reference's near-critical test: |Re μ| &lt; <see cref="JacobianOptions.CriticalReal"/> and
    /// Im μ &gt; <see cref="JacobianOptions.CriticalImaginary"/>, μ = <see cref="Mobius"/>(λ). True only for
    /// Im λ &gt; 0, so a conjugate pair counts once; λ = −1 never counts.
    /// </summary>
    /// <param name="lambda">An eigenvalue.</param>
    /// <param name="options">Thresholds (default <see cref="JacobianOptions.Default"/>).</param>
    public static bool IsNearCritical(Complex lambda, JacobianOptions? options = null)
    {
        options = Check(options);
        var mu = Mobius(lambda);
        return Math.Abs(mu.Real) < options.CriticalReal && mu.Imaginary > options.CriticalImaginary;
    }

    private static ImmutableArray<JacobianStep> Spectra(ReluRnnWeights weights, ImmutableArray<bool>[] patterns, JacobianOptions options)
    {
        var w = Recurrent(weights);
        var cache = new Dictionary<ImmutableArray<bool>, JacobianStep>(PatternComparer.Instance);
        var steps = new JacobianStep[patterns.Length];
        for (int t = 0; t < patterns.Length; t++)
        {
            if (!cache.TryGetValue(patterns[t], out var step))
            {
                var eigenvalues = Eigenvalues(w, weights.Hidden, patterns[t].AsSpan());
                int unstable = 0, critical = 0;
                foreach (var l in eigenvalues)
                {
                    if (l.Magnitude > options.UnstableModulus) unstable++;
                    var mu = Mobius(l);
                    if (Math.Abs(mu.Real) < options.CriticalReal && mu.Imaginary > options.CriticalImaginary) critical++;
                }
                step = new JacobianStep(patterns[t], eigenvalues, unstable, critical);
                cache[patterns[t]] = step;
            }
            steps[t] = step with { Pattern = patterns[t] };
        }
        return ImmutableArray.Create(steps);
    }

    /// <summary>W_hh as doubles, H × H row-major.</summary>
    internal static double[] Recurrent(ReluRnnWeights weights)
    {
        var w = new double[weights.RecurrentWeights.Length];
        for (int i = 0; i < w.Length; i++) w[i] = weights.RecurrentWeights[i];
        return w;
    }

    /// <summary>The eigenvalues of D_S W from W_SS plus H − |S| zeros, sorted as <see cref="Eigenvalues(ReluRnnWeights, ImmutableArray{bool})"/>.</summary>
    internal static ImmutableArray<Complex> Eigenvalues(double[] w, int hidden, ReadOnlySpan<bool> pattern)
    {
        var active = new List<int>();
        for (int i = 0; i < hidden; i++)
            if (pattern[i]) active.Add(i);
        var all = new List<Complex>(hidden);
        if (active.Count > 0)
        {
            var sub = Matrix<double>.Build.Dense(active.Count, active.Count, (a, b) => w[active[a] * hidden + active[b]]);
            all.AddRange(sub.Evd(Symmetricity.Asymmetric).EigenValues);
        }
        for (int i = active.Count; i < hidden; i++) all.Add(Complex.Zero);
        return [.. all.OrderByDescending(v => v.Magnitude).ThenByDescending(v => v.Real).ThenByDescending(v => v.Imaginary)];
    }

    internal static void CheckPattern(ImmutableArray<bool> pattern, int hidden, string name)
    {
        if (pattern.IsDefault || pattern.Length != hidden)
            throw new ArgumentException($"has {(pattern.IsDefault ? 0 : pattern.Length)} flags, the network {hidden} units", name);
    }

    internal static void CheckVector(ImmutableArray<double> v, int length, int index, string name)
    {
        if (v.IsDefault || v.Length != length)
            throw new ArgumentException($"entry {index} has {(v.IsDefault ? 0 : v.Length)} values, expected {length}", name);
        foreach (var x in v)
            if (!double.IsFinite(x)) throw new ArgumentException($"entry {index} contains {x}", name);
    }

    private static JacobianOptions Check(JacobianOptions? o)
    {
        o ??= JacobianOptions.Default;
        if (!(o.UnstableModulus >= 0 && double.IsFinite(o.UnstableModulus))) throw new ArgumentException($"UnstableModulus = {o.UnstableModulus} must be finite and ≥ 0", "options");
        if (!(o.CriticalReal >= 0 && double.IsFinite(o.CriticalReal))) throw new ArgumentException($"CriticalReal = {o.CriticalReal} must be finite and ≥ 0", "options");
        if (!double.IsFinite(o.CriticalImaginary)) throw new ArgumentException($"CriticalImaginary = {o.CriticalImaginary} must be finite", "options");
        return o;
    }
}

/// <summary>Activation patterns compared flag by flag (ImmutableArray's own equality compares references).</summary>
internal sealed class PatternComparer : IEqualityComparer<ImmutableArray<bool>>
{
    public static PatternComparer Instance { get; } = new();

    public bool Equals(ImmutableArray<bool> x, ImmutableArray<bool> y) => x.AsSpan().SequenceEqual(y.AsSpan());

    public int GetHashCode(ImmutableArray<bool> p)
    {
        var h = new HashCode();
        foreach (var b in p) h.Add(b);
        return h.ToHashCode();
    }
}
