namespace HmmRnn.Analysis.Numerics;

/// <summary>A straight line y ≈ Slope · x + Intercept fitted by ordinary least squares, with the classical standard errors.</summary>
/// <param name="Slope">β̂₁ = S_xy / S_xx.</param>
/// <param name="Intercept">β̂₀ = ȳ − β̂₁ x̄.</param>
/// <param name="SlopeStandardError">s / √S_xx, with s² = SSE / (n − 2).</param>
/// <param name="InterceptStandardError">s √(1/n + x̄² / S_xx).</param>
/// <param name="RSquared">1 − SSE / S_yy; NaN when every y is the same (S_yy = 0).</param>
/// <param name="Count">n, the number of points.</param>
public sealed record LinearFitResult(double Slope, double Intercept, double SlopeStandardError, double InterceptStandardError, double RSquared, int Count);

/// <summary>
/// Simple linear regression of y on x in closed form (centred sums), e.g. state velocity against the
/// evidence d = R − L (SPEC B4) or a readout against the Bayesian block posterior. For several
/// regressors at once see <see cref="Dynamics.Radd.Fit"/>'s QR least squares.
/// </summary>
public static class LinearFit
{
    /// <summary>Fits y ≈ β̂₁ x + β̂₀.</summary>
    /// <param name="x">The regressor, at least 3 finite values, not all equal.</param>
    /// <param name="y">The response, one finite value per x.</param>
    /// <exception cref="ArgumentException">Mismatched lengths, fewer than 3 points, non-finite values, or a constant x.</exception>
    public static LinearFitResult Fit(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (y.Count != x.Count) throw new ArgumentException($"{y.Count} responses for {x.Count} regressor values", nameof(y));
        int n = x.Count;
        if (n < 3) throw new ArgumentException($"needs at least 3 points for standard errors (n − 2 degrees of freedom), got {n}", nameof(x));
        double mx = 0, my = 0;
        for (int i = 0; i < n; i++)
        {
            if (!double.IsFinite(x[i])) throw new ArgumentException($"value {i} is {x[i]}", nameof(x));
            if (!double.IsFinite(y[i])) throw new ArgumentException($"value {i} is {y[i]}", nameof(y));
            mx += x[i];
            my += y[i];
        }
        mx /= n;
        my /= n;
        double sxx = 0, sxy = 0, syy = 0;
        for (int i = 0; i < n; i++)
        {
            double dx = x[i] - mx, dy = y[i] - my;
            sxx += dx * dx;
            sxy += dx * dy;
            syy += dy * dy;
        }
        if (sxx == 0) throw new ArgumentException($"all {n} values are {x[0]}: the slope is undefined", nameof(x));
        var slope = sxy / sxx;
        var intercept = my - slope * mx;
        double sse = 0;
        for (int i = 0; i < n; i++)
        {
            var r = y[i] - my - slope * (x[i] - mx);
            sse += r * r;
        }
        var s2 = sse / (n - 2);
        return new LinearFitResult(slope, intercept, Math.Sqrt(s2 / sxx), Math.Sqrt(s2 * (1.0 / n + mx * mx / sxx)),
            syy > 0 ? 1 - sse / syy : double.NaN, n);
    }
}
