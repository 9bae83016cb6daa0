using System.Collections.Immutable;
using MathNet.Numerics.LinearAlgebra;

namespace HmmRnn.Analysis.Numerics;

/// <summary>
/// A fitted binary logistic regression: P(y = true | x) = σ(w · x + b).
/// </summary>
/// <param name="Weights">w, one per feature.</param>
/// <param name="Intercept">b (never penalised).</param>
/// <param name="L2">λ, the ridge penalty the fit used: it minimised −log-likelihood + (λ / 2) ‖w‖².</param>
/// <param name="Iterations">Newton steps taken.</param>
/// <param name="LogLikelihood">Σ log P(y_i | x_i) at the fit (natural log, without the penalty).</param>
public sealed record LogisticModel(ImmutableArray<double> Weights, double Intercept, double L2, int Iterations, double LogLikelihood)
{
    /// <summary>The decision value w · x + b (the log-odds of true).</summary>
    /// <param name="x">A feature vector, one entry per weight.</param>
    public double Decision(ReadOnlySpan<double> x)
    {
        if (x.Length != Weights.Length) throw new ArgumentException($"has {x.Length} features, the model {Weights.Length}", nameof(x));
        double eta = Intercept;
        for (int j = 0; j < x.Length; j++) eta += Weights[j] * x[j];
        return eta;
    }

    /// <summary>P(y = true | x) = σ(w · x + b).</summary>
    /// <param name="x">A feature vector, one entry per weight.</param>
    public double Probability(ReadOnlySpan<double> x) => LogisticRegression.Sigmoid(Decision(x));

    /// <summary>The predicted class: true where w · x + b &gt; 0 (probability above ½), as scikit-learn predicts.</summary>
    /// <param name="x">A feature vector, one entry per weight.</param>
    public bool Predict(ReadOnlySpan<double> x) => Decision(x) > 0;
}

/// <summary>
/// Binary logistic regression by Newton's method (iteratively reweighted least squares) with a
/// backtracking line search. It minimises −Σ log P(y_i | x_i) + (λ / 2) ‖w‖² over the weights w and an
/// unpenalised intercept b: scikit-learn's LogisticRegression with C = 1 / λ (its lbfgs default does
/// not penalise the intercept either). The paper's block-side classifier (Schaeffer et al. 2020, §3.2;
/// SPEC B4) is scikit-learn's default, C = 1, hence the default λ = 1. With λ = 0 this is the maximum
/// likelihood fit, which exists only when the classes overlap: on (quasi-)separable data the weights
/// grow without bound and <see cref="Fit"/> says so rather than returning a huge vector.
/// </summary>
public static class LogisticRegression
{
    /// <summary>λ = 1 / C with scikit-learn's default C = 1.</summary>
    public const double ScikitLearnDefaultL2 = 1.0;

    private const int MaxIterations = 100;

    /// <summary>Fits w and b.</summary>
    /// <param name="x">Feature vectors x_i, all of the same length d ≥ 1, finite.</param>
    /// <param name="y">Labels y_i, one per feature vector; both classes must occur.</param>
    /// <param name="l2">λ ≥ 0, the ridge penalty on w (default 1 = scikit-learn's C = 1).</param>
    /// <exception cref="ArgumentException">
    /// Empty, ragged or non-finite features; a label count that differs; a single class; λ &lt; 0 or not
    /// finite; with λ = 0, separable classes (no finite maximum) or features that, with the intercept,
    /// are linearly dependent.
    /// </exception>
    public static LogisticModel Fit(IReadOnlyList<double[]> x, IReadOnlyList<bool> y, double l2 = ScikitLearnDefaultL2)
    {
        int d = CheckData(x, y);
        if (!(l2 >= 0 && double.IsFinite(l2))) throw new ArgumentOutOfRangeException(nameof(l2), l2, "must be finite and ≥ 0");
        int positives = y.Count(v => v);
        if (positives == 0 || positives == y.Count)
            throw new ArgumentException($"all {y.Count} labels are {y[0]}: needs both classes", nameof(y));

        int n = x.Count, p = d + 1; // parameters: w_0 … w_(d−1), b
        var theta = new double[p];
        var eta = new double[n];
        var objective = Objective(x, y, theta, l2, eta);
        var trial = new double[p];
        for (int iteration = 1; iteration <= MaxIterations; iteration++)
        {
            // Gradient and Hessian of the penalised negative log-likelihood at theta (eta holds w · x_i + b).
            var gradient = Vector<double>.Build.Dense(p);
            var hessian = Matrix<double>.Build.Dense(p, p);
            var row = new double[p];
            for (int i = 0; i < n; i++)
            {
                x[i].CopyTo(row, 0);
                row[d] = 1;
                double pi = Sigmoid(eta[i]), residual = y[i] ? -Sigmoid(-eta[i]) : pi, weight = pi * Sigmoid(-eta[i]);
                for (int a = 0; a < p; a++)
                {
                    gradient[a] += residual * row[a];
                    var wa = weight * row[a];
                    for (int c = 0; c <= a; c++) hessian[a, c] += wa * row[c];
                }
            }
            for (int a = 0; a < p; a++)
                for (int c = 0; c < a; c++) hessian[c, a] = hessian[a, c];
            for (int j = 0; j < d; j++)
            {
                gradient[j] += l2 * theta[j];
                hessian[j, j] += l2;
            }

            Vector<double> newton;
            try { newton = hessian.Cholesky().Solve(-gradient); }
            catch (ArgumentException)
            {
                throw l2 > 0 || iteration == 1
                    ? new ArgumentException($"the {d} features and the intercept are linearly dependent over the {n} samples (singular Hessian); drop a feature or use l2 > 0", nameof(x))
                    : new ArgumentException($"no maximum-likelihood fit: with l2 = 0 the classes are (quasi-)separable and the weights grow without bound; use l2 > 0", nameof(l2));
            }
            var step = newton.ToArray();

            // Backtracking (Armijo) line search: Newton's full step unless it fails to decrease the objective
            // (by more than rounding: near the optimum the predicted decrease is below the objective's last digit).
            double slope = gradient.DotProduct(newton), t = 1, next;
            var rounding = 1e-14 * (1 + Math.Abs(objective));
            while (true)
            {
                for (int a = 0; a < p; a++) trial[a] = theta[a] + t * step[a];
                next = Objective(x, y, trial, l2, eta);
                if (next <= objective + 1e-4 * t * slope + rounding) break;
                if (t < 1e-12) throw new InvalidOperationException($"the line search failed at step {iteration} (objective {objective}, directional derivative {slope})");
                t /= 2;
            }
            trial.CopyTo(theta, 0);
            var change = 0.0;
            var size = 1.0;
            for (int a = 0; a < p; a++) { change = Math.Max(change, Math.Abs(t * step[a])); size = Math.Max(size, Math.Abs(theta[a])); }
            objective = next;
            // Newton converges quadratically to a finite optimum; on separable data its steps stay of order one.
            if (change <= 1e-10 * size)
            {
                var weights = ImmutableArray.Create(theta, 0, d);
                var penalty = 0.0;
                foreach (var w in weights) penalty += w * w;
                return new LogisticModel(weights, theta[d], l2, iteration, -(objective - 0.5 * l2 * penalty));
            }
        }
        throw l2 > 0
            ? new InvalidOperationException($"Newton's method did not converge in {MaxIterations} steps (l2 = {l2})")
            : new ArgumentException($"no maximum-likelihood fit: with l2 = 0 the classes are (quasi-)separable and the weights grow without bound; use l2 > 0", nameof(l2));
    }

    /// <summary>The fraction of samples whose predicted class equals the label.</summary>
    /// <param name="model">A fitted model.</param>
    /// <param name="x">Feature vectors.</param>
    /// <param name="y">Labels, one per feature vector.</param>
    /// <exception cref="ArgumentException">No samples, mismatched counts, or a feature vector of the wrong length.</exception>
    public static double Accuracy(LogisticModel model, IReadOnlyList<double[]> x, IReadOnlyList<bool> y)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Count == 0) throw new ArgumentException("needs at least one sample", nameof(x));
        if (y.Count != x.Count) throw new ArgumentException($"{y.Count} labels for {x.Count} samples", nameof(y));
        int correct = 0;
        for (int i = 0; i < x.Count; i++)
        {
            if (x[i] is null || x[i].Length != model.Weights.Length)
                throw new ArgumentException($"sample {i} has {x[i]?.Length ?? 0} features, the model {model.Weights.Length}", nameof(x));
            if (model.Predict(x[i]) == y[i]) correct++;
        }
        return (double)correct / x.Count;
    }

    /// <summary>σ(t) = 1 / (1 + e^(−t)), without overflow.</summary>
    internal static double Sigmoid(double t) => t >= 0 ? 1 / (1 + Math.Exp(-t)) : Math.Exp(t) / (1 + Math.Exp(t));

    /// <summary>log(1 + e^t), without overflow or loss of precision.</summary>
    private static double Softplus(double t) => t > 0 ? t + Log1P(Math.Exp(-t)) : Log1P(Math.Exp(t));

    /// <summary>log(1 + u) accurate for small u (Kahan's trick: the rounding of 1 + u cancels).</summary>
    private static double Log1P(double u)
    {
        var w = 1 + u;
        return w == 1 ? u : Math.Log(w) * u / (w - 1);
    }

    /// <summary>−Σ log P(y_i | x_i) + (λ / 2) ‖w‖² at theta = (w, b); leaves w · x_i + b in <paramref name="eta"/>.</summary>
    private static double Objective(IReadOnlyList<double[]> x, IReadOnlyList<bool> y, double[] theta, double l2, double[] eta)
    {
        int d = theta.Length - 1;
        double f = 0;
        for (int i = 0; i < x.Count; i++)
        {
            double e = theta[d];
            var xi = x[i];
            for (int j = 0; j < d; j++) e += theta[j] * xi[j];
            eta[i] = e;
            f += Softplus(y[i] ? -e : e); // −log σ(±e)
        }
        for (int j = 0; j < d; j++) f += 0.5 * l2 * theta[j] * theta[j];
        return f;
    }

    private static int CheckData(IReadOnlyList<double[]> x, IReadOnlyList<bool> y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Count == 0) throw new ArgumentException("needs at least one sample", nameof(x));
        if (y.Count != x.Count) throw new ArgumentException($"{y.Count} labels for {x.Count} samples", nameof(y));
        int d = x[0]?.Length ?? 0;
        if (d == 0) throw new ArgumentException("samples have no features", nameof(x));
        for (int i = 0; i < x.Count; i++)
        {
            if (x[i] is null || x[i].Length != d) throw new ArgumentException($"sample {i} has {x[i]?.Length ?? 0} features, sample 0 has {d}", nameof(x));
            for (int j = 0; j < d; j++)
                if (!double.IsFinite(x[i][j])) throw new ArgumentException($"sample {i} contains {x[i][j]} (feature {j})", nameof(x));
        }
        return d;
    }
}
