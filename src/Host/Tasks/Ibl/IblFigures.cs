using HmmRnn.Analysis;
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
        Charts.Lines(folder, "psychometric.png", "P(rightward choice) by signed contrast (solid: right block, dashed: left)",
            SignedContrast, "P(rightward choice)",
            BySide(sided, a => a.Psychometric.Select(p => (p.SignedContrast, p.BlockSide, p.RightwardFraction))), 0, 1);
        Charts.Lines(folder, "chronometric.png", "Steps to act by signed contrast (solid: right block, dashed: left)",
            SignedContrast, "mean observation steps before acting",
            BySide(sided, a => a.Chronometric.Select(p => (p.SignedContrast, p.BlockSide, p.MeanSteps))), 0);
        Charts.Lines(folder, "chronometric-concordance.png", "Steps to act by contrast (solid: concordant, dashed: discordant)",
            "contrast μ", "mean observation steps before acting",
            agents.SelectMany((a, g) => new[]
            {
                new Line($"{a.Agent}, concordant", a.ByContrast.Select(c => (c.Contrast, c.MeanStepsConcordant)).ToArray(), Group: g),
                new Line($"{a.Agent}, discordant", a.ByContrast.Select(c => (c.Contrast, c.MeanStepsDiscordant)).ToArray(), Dashed: true, Group: g),
            }), 0);
    }

    /// <summary>Two lines per agent in its colour: right block solid, left block dashed.</summary>
    private static IEnumerable<Line> BySide(IReadOnlyList<AgentSummary> agents, Func<AgentSummary, IEnumerable<(double X, Side Block, double Y)>> points) =>
        agents.SelectMany((a, g) => new[] { Side.Right, Side.Left }.Select(side => new Line(
            $"{a.Agent}, {side.ToString().ToLowerInvariant()} block",
            points(a).Where(p => p.Block == side).Select(p => (p.X, p.Y)).ToArray(), Dashed: side == Side.Left, Group: g)));
}
