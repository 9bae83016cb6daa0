using HmmRnn.Analysis.Ibl;
using HmmRnn.Core.Ibl;
using HmmRnn.Host.Output;
using HmmRnn.Host.Plots;

namespace HmmRnn.Host.Tasks.Ibl;

/// <summary>
/// The behaviour figures of any set of IBL agents (<c>ibl bayes</c>'s Bayesian actors; <c>ibl analyze</c>'s network beside
/// them): one colour per agent throughout.
/// </summary>
internal static class IblFigures
{
    private const string SignedContrast = "signed contrast μ (stimulus right > 0, left < 0)";

    /// <summary>
    /// Writes accuracy-by-contrast.png, psychometric.png (P(rightward choice) by signed contrast, per block side),
    /// chronometric.png (mean steps to act by signed contrast, per block side) and chronometric-concordance.png
    /// (mean steps by contrast, concordant and discordant).
    /// </summary>
    /// <param name="folder">Where they go.</param>
    /// <param name="agents">The agents, each in its colour.</param>
    /// <param name="bySide">How many of the agents, from the first, the two by-block-side figures draw (two lines each).</param>
    public static void Behaviour(RunFolder folder, IReadOnlyList<AgentSummary> agents, int bySide = int.MaxValue)
    {
        var sided = agents.Take(bySide).ToArray();
        Charts.Lines(folder, "accuracy-by-contrast.png", "Accuracy by contrast (solid: concordant, dashed: discordant)",
            "contrast μ", "fraction correct (time-outs wrong)",
            agents.SelectMany((a, g) => new[]
            {
                new Line($"{a.Agent}, concordant", a.ByContrast.Select(c => (c.Contrast, c.ConcordantAccuracy)).ToArray(), Group: g),
                new Line($"{a.Agent}, discordant", a.ByContrast.Select(c => (c.Contrast, c.DiscordantAccuracy)).ToArray(), Dashed: true, Group: g),
            }), 0, 1);
        Charts.Lines(folder, "psychometric.png", "P(rightward choice) by signed contrast (solid: right block, dashed: left; bars: 95% Wilson)",
            SignedContrast, "P(rightward choice)",
            BySide(sided, a => a.Psychometric.Select(p => (p.SignedContrast, p.BlockSide, p.RightwardFraction, Wilson(p.RightwardFraction, p.Trials)))), 0, 1);
        if (sided.Any(a => a.PsychometricFits.Count > 0))
            Charts.Lines(folder, "psychometric-fit.png",
                "P(right): data (dots), erf fit with lapses (solid: right block, dashed: left)",
                SignedContrast, "P(rightward choice)", FittedCurves(sided), 0, 1);
        Charts.Lines(folder, "chronometric.png", "Steps to act by signed contrast (solid: right block, dashed: left; bars: ± 1 s.e.m.)",
            SignedContrast, "mean observation steps before acting",
            BySide(sided, a => a.Chronometric.Select(p => (p.SignedContrast, p.BlockSide, p.MeanSteps, (p.MeanSteps - p.StandardError, p.MeanSteps + p.StandardError)))), 0);
        Charts.Lines(folder, "chronometric-concordance.png", "Steps to act by contrast (solid: concordant, dashed: discordant)",
            "contrast μ", "mean observation steps before acting",
            agents.SelectMany((a, g) => new[]
            {
                new Line($"{a.Agent}, concordant", a.ByContrast.Select(c => (c.Contrast, c.MeanStepsConcordant)).ToArray(), Group: g),
                new Line($"{a.Agent}, discordant", a.ByContrast.Select(c => (c.Contrast, c.MeanStepsDiscordant)).ToArray(), Dashed: true, Group: g),
            }), 0);
    }

    /// <summary>Per agent and block side, the data as dots and the fitted psychometric function as a line, in the agent's colour.</summary>
    private static IEnumerable<Line> FittedCurves(IReadOnlyList<AgentSummary> agents)
    {
        var all = agents.SelectMany(a => a.Psychometric).Select(p => p.SignedContrast).ToArray();
        if (all.Length == 0) yield break;
        double lo = all.Min(), hi = all.Max();
        var grid = Enumerable.Range(0, 201).Select(i => lo + (hi - lo) * i / 200).ToArray();
        for (int g = 0; g < agents.Count; g++)
            foreach (var fit in agents[g].PsychometricFits)
            {
                var side = fit.BlockSide.ToString().ToLowerInvariant();
                yield return new Line($"{agents[g].Agent}, {side} block",
                    agents[g].Psychometric.Where(p => p.BlockSide == fit.BlockSide).Select(p => (p.SignedContrast, p.RightwardFraction)).ToArray(),
                    Group: g) { MarkersOnly = true };
                yield return new Line($"fit: μ = {fit.Fit.Curve.Bias:F3}, σ = {fit.Fit.Curve.Threshold:F3}",
                    grid.Select(x => (x, fit.Fit.Curve.RightwardProbability(x))).ToArray(), Dashed: fit.BlockSide == Side.Left, Group: g) { NoMarkers = true };
            }
    }

    /// <summary>The fits of every agent as a Markdown table: bias, threshold and lapse rates with their 95% bootstrap intervals.</summary>
    public static string FitTable(IReadOnlyList<AgentSummary> agents)
    {
        static string F(double x) => x.ToString("F3", System.Globalization.CultureInfo.InvariantCulture);
        static string I(double x, Interval i) => $"{F(x)} [{F(i.Lower)}, {F(i.Upper)}]";
        var sb = new System.Text.StringBuilder();
        sb.AppendLine("Psychometric fits per block (IBL's P(right) = γ_L + (1 − γ_L − γ_R) · ½(1 + erf((c − μ)/σ)), maximum likelihood; " +
                      "[95% parametric-bootstrap interval]):");
        sb.AppendLine();
        sb.AppendLine("| agent | block | bias μ | threshold σ | lapse γ_L | lapse γ_R | trials |");
        sb.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var a in agents)
            foreach (var f in a.PsychometricFits)
            {
                var c = f.Fit.Curve;
                sb.AppendLine($"| {a.Agent} | {f.BlockSide.ToString().ToLowerInvariant()} | {I(c.Bias, f.Fit.Bias)} | {I(c.Threshold, f.Fit.Threshold)} | " +
                              $"{I(c.LapseLeft, f.Fit.LapseLeft)} | {I(c.LapseRight, f.Fit.LapseRight)} | {f.Fit.Trials:N0} |");
            }
        return sb.ToString();
    }

    /// <summary>Two lines per agent in its colour, each point with its error bar: right block solid, left block dashed.</summary>
    private static IEnumerable<Line> BySide(IReadOnlyList<AgentSummary> agents,
        Func<AgentSummary, IEnumerable<(double X, Side Block, double Y, (double Low, double High) Error)>> points) =>
        agents.SelectMany((a, g) => new[] { Side.Right, Side.Left }.Select(side =>
        {
            var at = points(a).Where(p => p.Block == side).ToArray();
            return new Line($"{a.Agent}, {side.ToString().ToLowerInvariant()} block", at.Select(p => (p.X, p.Y)).ToArray(), Dashed: side == Side.Left, Group: g)
            { Errors = at.Select(p => p.Error).ToArray() };
        }));

    /// <summary>A proportion's 95% Wilson interval as an error bar; none (NaN) without trials.</summary>
    private static (double Low, double High) Wilson(double fraction, int trials)
    {
        if (trials < 1 || !double.IsFinite(fraction)) return (double.NaN, double.NaN);
        var interval = Interval.Wilson(fraction, trials);
        return (interval.Lower, interval.Upper);
    }
}
