using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using HmmRnn.Analysis.Numerics;
using HmmRnn.Core;

namespace HmmRnn.Properties;

/// <summary>Logistic regression against a derivative-free search and the first-order conditions, written out here.</summary>
public class LogisticRegressionProperties
{
    /// <summary>n labelled points in d dimensions, and λ.</summary>
    public sealed record Data(double[][] X, bool[] Y, double L2)
    {
        /// <inheritdoc />
        public override string ToString() =>
            $"λ = {L2}\n" + string.Join("\n", X.Select((x, i) => $"[{string.Join(", ", x.Select(v => v.ToString("R")))}] → {Y[i]}"));
    }

    /// <summary>
    /// Labels drawn from a logistic model, plus both labels at the origin and at each unit vector: d + 1
    /// affinely independent points carry both classes, so no hyperplane separates them and the λ = 0
    /// maximum exists.
    /// </summary>
    private static Gen<Data> Overlapping(int maxFeatures, int maxPoints, bool allowZeroL2) =>
        from d in Gen.Choose(1, maxFeatures)
        from n in Gen.Choose(0, maxPoints)
        from l2 in allowZeroL2 ? Gen.Elements(0.0, 0.05, 0.5, 1.0, 3.0) : Gen.Elements(0.05, 0.5, 1.0, 3.0)
        from seed in Gen.Choose(0, int.MaxValue)
        select MakeData(d, n, l2, seed);

    private static Data MakeData(int d, int n, double l2, int seed)
    {
        var rng = new RngStream(Rng.FromSeed(seed));
        var w = Enumerable.Range(0, d).Select(_ => 1.5 * rng.Normal()).ToArray();
        var b = rng.Normal();
        var x = new List<double[]>();
        var y = new List<bool>();
        for (int i = 0; i < n; i++)
        {
            var xi = Enumerable.Range(0, d).Select(_ => 2 * rng.Normal()).ToArray();
            x.Add(xi);
            y.Add(rng.Uniform() < Sigma(b + xi.Zip(w, (p, q) => p * q).Sum()));
        }
        for (int k = -1; k < d; k++)
            foreach (var label in new[] { false, true })
            {
                x.Add([.. Enumerable.Range(0, d).Select(j => j == k ? 1.0 : 0.0)]);
                y.Add(label);
            }
        return new Data([.. x], [.. y], l2);
    }

    private static double Sigma(double t) => 1 / (1 + Math.Exp(-t));

    /// <summary>−Σ log P(y_i | x_i) + (λ / 2) ‖w‖² at θ = (w, b), straight from the definition.</summary>
    private static double Loss(Data data, double[] theta)
    {
        int d = theta.Length - 1;
        double f = 0;
        for (int i = 0; i < data.X.Length; i++)
        {
            var eta = theta[d] + Enumerable.Range(0, d).Sum(j => theta[j] * data.X[i][j]);
            f += data.Y[i] ? Math.Log(1 + Math.Exp(-eta)) : Math.Log(1 + Math.Exp(eta));
        }
        return f + 0.5 * data.L2 * theta.Take(d).Sum(v => v * v);
    }

    /// <summary>Compass search: try ± step along each coordinate, move on improvement, halve the step when none improves.</summary>
    private static double[] CompassSearch(Func<double[], double> f, int dimensions)
    {
        var x = new double[dimensions];
        var fx = f(x);
        for (double step = 1; step > 1e-11;)
        {
            bool moved = false;
            for (int k = 0; k < dimensions; k++)
                foreach (var sign in new[] { 1.0, -1.0 })
                {
                    var trial = (double[])x.Clone();
                    trial[k] += sign * step;
                    var ft = f(trial);
                    if (ft < fx) { (x, fx, moved) = (trial, ft, true); }
                }
            if (!moved) step /= 2;
        }
        return x;
    }

    private static double[] Theta(LogisticModel m) => [.. m.Weights, m.Intercept];

    [Property(MaxTest = 60)]
    public Property Matches_a_compass_search_on_one_or_two_features() => Prop.ForAll(Overlapping(2, 10, true).ToArbitrary(), data =>
    {
        var model = LogisticRegression.Fit(data.X, data.Y, data.L2);
        var brute = CompassSearch(t => Loss(data, t), data.X[0].Length + 1);
        double fitLoss = Loss(data, Theta(model)), bruteLoss = Loss(data, brute);
        var err = Theta(model).Zip(brute, (a, b) => Math.Abs(a - b)).Max();
        return (fitLoss <= bruteLoss + 1e-12 * (1 + bruteLoss) && err < 1e-4)
            .Label($"loss {fitLoss} vs search {bruteLoss}; parameters differ by {err}: fit [{string.Join(", ", Theta(model))}], search [{string.Join(", ", brute)}]");
    });

    [Property(MaxTest = 200)]
    public Property The_penalised_gradient_vanishes_and_the_log_likelihood_is_reported() => Prop.ForAll(Overlapping(4, 40, true).ToArbitrary(), data =>
    {
        // ∂/∂w_j: Σ (σ(η_i) − y_i) x_ij + λ w_j = 0;  ∂/∂b: Σ (σ(η_i) − y_i) = 0.
        var model = LogisticRegression.Fit(data.X, data.Y, data.L2);
        int d = model.Weights.Length;
        var grad = new double[d + 1];
        double logLik = 0;
        for (int i = 0; i < data.X.Length; i++)
        {
            var eta = model.Intercept + Enumerable.Range(0, d).Sum(j => model.Weights[j] * data.X[i][j]);
            var r = Sigma(eta) - (data.Y[i] ? 1 : 0);
            for (int j = 0; j < d; j++) grad[j] += r * data.X[i][j];
            grad[d] += r;
            logLik += Math.Log(data.Y[i] ? Sigma(eta) : 1 - Sigma(eta));
        }
        for (int j = 0; j < d; j++) grad[j] += data.L2 * model.Weights[j];
        var worst = grad.Max(Math.Abs);
        return (worst < 1e-9 * data.X.Length && Math.Abs(logLik - model.LogLikelihood) < 1e-9 * data.X.Length)
            .Label($"largest gradient entry {worst}; log-likelihood {model.LogLikelihood} vs {logLik}");
    });

    [Property(MaxTest = 100)]
    public Property Flipping_the_labels_negates_weights_and_intercept() => Prop.ForAll(Overlapping(4, 30, true).ToArbitrary(), data =>
    {
        // P(¬y | x) = σ(−(w · x + b)) and the penalty is even: the flipped problem's optimum is −θ.
        var a = LogisticRegression.Fit(data.X, data.Y, data.L2);
        var b = LogisticRegression.Fit(data.X, [.. data.Y.Select(v => !v)], data.L2);
        var err = Theta(a).Zip(Theta(b), (p, q) => Math.Abs(p + q)).Max();
        return (err < 1e-8 && Math.Abs(a.LogLikelihood - b.LogLikelihood) < 1e-8).Label($"θ + θ_flipped up to {err}");
    });

    [Property(MaxTest = 100)]
    public Property A_larger_penalty_never_lengthens_the_weights() => Prop.ForAll(Overlapping(3, 30, false).ToArbitrary(), data =>
    {
        double Length(LogisticModel m) => Math.Sqrt(m.Weights.Sum(v => v * v));
        var a = LogisticRegression.Fit(data.X, data.Y, data.L2);
        var b = LogisticRegression.Fit(data.X, data.Y, 2 * data.L2);
        return (Length(b) <= Length(a) + 1e-9).Label($"‖w‖ {Length(a)} at λ = {data.L2}, {Length(b)} at 2λ");
    });
}

/// <summary>Logistic regression on hand-made data with closed-form answers, and its refusals.</summary>
public class LogisticRegressionExamples
{
    [Fact]
    public void Two_groups_give_the_closed_form_log_odds()
    {
        // At x = +1: 3 of 4 true; at x = −1: 1 of 4 true. The λ = 0 fit reproduces P = 3/4 and 1/4: w = ln 3, b = 0.
        double[][] x = [[1], [1], [1], [1], [-1], [-1], [-1], [-1]];
        bool[] y = [true, true, true, false, true, false, false, false];
        var m = LogisticRegression.Fit(x, y, l2: 0);
        Assert.Equal(Math.Log(3), m.Weights[0], 12);
        Assert.Equal(0, m.Intercept, 12);
        Assert.Equal(6 * Math.Log(0.75) + 2 * Math.Log(0.25), m.LogLikelihood, 12); // six points at probability 3/4, two at 1/4
        Assert.Equal(0.75, LogisticRegression.Accuracy(m, x, y), 15);
        Assert.Equal(0.75, m.Probability([1.0]), 12);
    }

    [Fact]
    public void Separable_classes_without_a_penalty_are_refused_and_fit_with_the_default()
    {
        double[][] x = [[-2], [-1], [1], [2]];
        bool[] y = [false, false, true, true];
        var e = Assert.Throws<ArgumentException>(() => LogisticRegression.Fit(x, y, l2: 0));
        Assert.Equal("l2", e.ParamName);
        var m = LogisticRegression.Fit(x, y);
        Assert.Equal(1.0, m.L2);
        Assert.Equal(1.0, LogisticRegression.Accuracy(m, x, y));
    }

    [Fact]
    public void A_single_class_is_named()
    {
        var e = Assert.Throws<ArgumentException>(() => LogisticRegression.Fit([[0.0], [1.0]], [true, true]));
        Assert.Equal("y", e.ParamName);
    }

    [Fact]
    public void A_duplicated_feature_without_a_penalty_is_named()
    {
        var e = Assert.Throws<ArgumentException>(() => LogisticRegression.Fit([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [0.5, 0.5]], [true, false, true, false], l2: 0));
        Assert.Equal("x", e.ParamName);
    }
}

/// <summary>Angles, subspace shares and velocities against constructions whose answer is known.</summary>
public class GeometryProperties
{
    private static Gen<(double Degrees, double[] A, double[] B, int Seed)> Pairs { get; } =
        from dim in Gen.Choose(2, 6)
        from milli in Gen.Choose(0, 180_000)
        from seed in Gen.Choose(0, int.MaxValue)
        select MakePair(dim, milli / 1000.0, seed);

    /// <summary>a = s₁ e_p, b = s₂ (cos θ e_p + sin θ e_q) for random axes p ≠ q and scales: the angle is θ by construction.</summary>
    private static (double, double[], double[], int) MakePair(int dim, double degrees, int seed)
    {
        var rng = new RngStream(Rng.FromSeed(seed));
        int p = (int)(rng.Uniform() * dim), q = (p + 1 + (int)(rng.Uniform() * (dim - 1))) % dim;
        double s1 = 0.1 + 10 * rng.Uniform(), s2 = 0.1 + 10 * rng.Uniform(), theta = degrees * Math.PI / 180;
        var a = new double[dim];
        var b = new double[dim];
        a[p] = s1;
        b[p] = s2 * Math.Cos(theta);
        b[q] = s2 * Math.Sin(theta);
        return (degrees, a, b, seed);
    }

    [Property(MaxTest = 300)]
    public Property Angle_of_a_constructed_pair() => Prop.ForAll(Pairs.ToArbitrary(), c =>
    {
        var angle = Geometry.AngleDegrees(c.A, c.B);
        var line = Geometry.AngleDegrees(c.A, c.B, asLines: true);
        var back = Geometry.AngleDegrees(c.B, c.A);
        return (Math.Abs(angle - c.Degrees) < 1e-9 && Math.Abs(line - Math.Min(c.Degrees, 180 - c.Degrees)) < 1e-9 && Math.Abs(back - angle) < 1e-12)
            .Label($"expected {c.Degrees}°, got {angle}° (lines {line}°, reversed {back}°)");
    });

    [Property(MaxTest = 300)]
    public Property Share_in_the_span_of_coordinate_mixtures() =>
        Prop.ForAll(Gen.Choose(2, 7).SelectMany(d => Gen.Choose(1, d).SelectMany(k => Gen.Choose(0, int.MaxValue).Select(s => (d, k, s)))).ToArbitrary(), c =>
        {
            // Basis vectors that are random mixtures of the first k of a random permutation of the axes span exactly
            // those k axes, so the share is Σ_(i in them) v_i² / ‖v‖².
            var (d, k, seed) = c;
            var rng = new RngStream(Rng.FromSeed(seed));
            var axes = Enumerable.Range(0, d).OrderBy(_ => rng.Uniform()).ToArray();
            var basis = Enumerable.Range(0, k).Select(r =>
            {
                var v = new double[d];
                for (int m = 0; m < k; m++) v[axes[m]] = rng.Normal() + (m == r ? 3 : 0);
                return v.ToImmutableArray();
            }).ToArray();
            var x = Enumerable.Range(0, d).Select(_ => rng.Normal()).ToArray();
            var expected = axes.Take(k).Sum(i => x[i] * x[i]) / x.Sum(v => v * v);
            var share = Geometry.ShareInSubspace(x, basis);
            return (Math.Abs(share - expected) < 1e-10).Label($"share {share}, expected {expected}");
        });

    [Property(MaxTest = 200)]
    public Property Velocity_along_a_direction_telescopes_and_is_linear() =>
        Prop.ForAll(Gen.Choose(1, 5).SelectMany(d => Gen.Choose(2, 20).SelectMany(t => Gen.Choose(0, int.MaxValue).Select(s => (d, t, s)))).ToArbitrary(), c =>
        {
            var (d, T, seed) = c;
            var rng = new RngStream(Rng.FromSeed(seed));
            var states = Enumerable.Range(0, T).Select(_ => Enumerable.Range(0, d).Select(_ => rng.Normal()).ToImmutableArray()).ToArray();
            var r = Enumerable.Range(0, d).Select(_ => rng.Normal()).ToArray();
            var v = Geometry.VelocityAlong(states, r);
            double Dot(int t) => Enumerable.Range(0, d).Sum(i => r[i] * states[t][i]);
            var each = Enumerable.Range(1, T - 1).Max(t => Math.Abs(v[t - 1] - (Dot(t) - Dot(t - 1))));
            var total = Math.Abs(v.Sum() - (Dot(T - 1) - Dot(0)));
            return (v.Length == T - 1 && each < 1e-12 && total < 1e-10).Label($"{v.Length} values; per step off by {each}, total by {total}");
        });

    [Fact]
    public void Share_refuses_dependent_vectors_and_angle_a_zero_vector()
    {
        Assert.Equal("basis", Assert.Throws<ArgumentException>(() => Geometry.ShareInSubspace([1.0, 2, 3], [[1.0, 0, 0], [2.0, 0, 0]])).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => Geometry.AngleDegrees([1.0, 2], [0.0, 0])).ParamName);
    }
}

/// <summary>The closed-form line fit against a worked example and an exact line.</summary>
public class LinearFitProperties
{
    [Fact]
    public void Worked_example()
    {
        // x = 1..5, y = 2, 4, 5, 4, 5: x̄ = 3, ȳ = 4, S_xx = 10, S_xy = 6, S_yy = 6.
        // slope 0.6, intercept 2.2, SSE = 6 − 0.6·6 = 2.4, s² = 0.8, SE(slope) = √0.08, SE(intercept) = √(0.8 (1/5 + 9/10)) = √0.88, R² = 0.6.
        var f = LinearFit.Fit([1.0, 2, 3, 4, 5], [2.0, 4, 5, 4, 5]);
        Assert.Equal(0.6, f.Slope, 12);
        Assert.Equal(2.2, f.Intercept, 12);
        Assert.Equal(Math.Sqrt(0.08), f.SlopeStandardError, 12);
        Assert.Equal(Math.Sqrt(0.88), f.InterceptStandardError, 12);
        Assert.Equal(0.6, f.RSquared, 12);
        Assert.Equal(5, f.Count);
    }

    [Property(MaxTest = 300)]
    public Property An_exact_line_is_recovered_with_zero_standard_errors() =>
        Prop.ForAll(Gen.Choose(-1000, 1000).ToArbitrary(), Gen.Choose(-1000, 1000).ToArbitrary(), Gen.Choose(0, int.MaxValue).ToArbitrary(), (a, b, seed) =>
        {
            var rng = new RngStream(Rng.FromSeed(seed));
            double slope = a / 100.0, intercept = b / 100.0;
            var x = Enumerable.Range(0, 3 + seed % 20).Select(_ => 10 * rng.Normal()).ToArray();
            var f = LinearFit.Fit(x, [.. x.Select(v => slope * v + intercept)]);
            var ok = Math.Abs(f.Slope - slope) < 1e-10 && Math.Abs(f.Intercept - intercept) < 1e-10
                && f.SlopeStandardError < 1e-9 && f.InterceptStandardError < 1e-9
                && (slope == 0 || f.RSquared > 1 - 1e-12); // a flat line leaves S_yy at rounding level: R² is undefined there
            return ok.Label($"x = [{string.Join(", ", x)}]: slope {f.Slope}, intercept {f.Intercept}, SEs {f.SlopeStandardError}, {f.InterceptStandardError}, R² {f.RSquared}");
        });

    [Property(MaxTest = 200)]
    public Property Standard_errors_are_the_diagonal_of_s2_times_the_inverse_Gram_matrix() =>
        Prop.ForAll(Gen.Choose(3, 30).ToArbitrary(), Gen.Choose(0, int.MaxValue).ToArbitrary(), (n, seed) =>
        {
            // Normal equations for X = [x, 1]: residuals orthogonal to x and 1; Var β̂ = s² (XᵀX)⁻¹ with the 2 × 2 inverse written out.
            var rng = new RngStream(Rng.FromSeed(seed));
            var x = Enumerable.Range(0, n).Select(_ => 3 * rng.Normal() + 1).ToArray();
            var y = x.Select(v => 0.7 * v - 2 + rng.Normal()).ToArray();
            var f = LinearFit.Fit(x, y);
            var r = x.Select((v, i) => y[i] - f.Slope * v - f.Intercept).ToArray();
            double sxx = x.Sum(v => v * v), sx = x.Sum(), det = n * sxx - sx * sx, s2 = r.Sum(v => v * v) / (n - 2);
            var seSlope = Math.Sqrt(s2 * n / det);
            var seIntercept = Math.Sqrt(s2 * sxx / det);
            double orthX = Math.Abs(r.Zip(x, (p, q) => p * q).Sum()), orth1 = Math.Abs(r.Sum());
            return (orthX < 1e-9 * n && orth1 < 1e-9 * n && Math.Abs(f.SlopeStandardError - seSlope) < 1e-10 * seSlope
                    && Math.Abs(f.InterceptStandardError - seIntercept) < 1e-10 * seIntercept)
                .Label($"Xᵀr = ({orthX}, {orth1}); SEs ({f.SlopeStandardError}, {f.InterceptStandardError}) vs ({seSlope}, {seIntercept})");
        });
}
