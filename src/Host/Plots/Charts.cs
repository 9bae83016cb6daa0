using HmmRnn.Host.Output;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace HmmRnn.Host.Plots;

/// <summary>A named line of (x, y) points.</summary>
/// <remarks>Lines with the same <paramref name="Group"/> share a colour (e.g. one agent, concordant solid and discordant dashed).</remarks>
public sealed record Line(string Title, IReadOnlyList<(double X, double Y)> Points, bool Dashed = false, int? Group = null);

/// <summary>PNG charts through OxyPlot + SkiaSharp (headless; no display needed).</summary>
public static class Charts
{
    /// <summary>Chart size in pixels.</summary>
    public const int Width = 900, Height = 600;

    /// <summary>Colour-blind-safe colours (Okabe–Ito).</summary>
    private static readonly OxyColor[] Palette =
    [
        OxyColor.FromRgb(0, 114, 178), OxyColor.FromRgb(213, 94, 0), OxyColor.FromRgb(0, 158, 115),
        OxyColor.FromRgb(204, 121, 167), OxyColor.FromRgb(230, 159, 0), OxyColor.FromRgb(86, 180, 233), OxyColor.FromRgb(0, 0, 0),
    ];

    /// <summary>A line chart written atomically into <paramref name="folder"/>; returns its path.</summary>
    public static string Lines(RunFolder folder, string file, string title, string xTitle, string yTitle,
        IEnumerable<Line> lines, double? yMin = null, double? yMax = null)
    {
        var model = new PlotModel { Title = title, Background = OxyColors.White };
        model.Legends.Add(new Legend { LegendPosition = LegendPosition.BottomRight, LegendBackground = OxyColor.FromAColor(220, OxyColors.White) });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = xTitle, MajorGridlineStyle = LineStyle.Dot });
        model.Axes.Add(new LinearAxis
        {
            Position = AxisPosition.Left, Title = yTitle, MajorGridlineStyle = LineStyle.Dot,
            Minimum = yMin ?? double.NaN, Maximum = yMax ?? double.NaN,
        });
        var palette = Palette;
        int index = 0;
        foreach (var line in lines)
        {
            var s = new LineSeries
            {
                Title = line.Title, MarkerType = MarkerType.Circle, MarkerSize = 3,
                LineStyle = line.Dashed ? LineStyle.Dash : LineStyle.Solid,
                Color = palette[(line.Group ?? index) % palette.Length],
            };
            index++;
            foreach (var (x, y) in line.Points)
                if (double.IsFinite(y)) s.Points.Add(new DataPoint(x, y));
            model.Series.Add(s);
        }
        return folder.WriteAtomic(file, stream => new OxyPlot.SkiaSharp.PngExporter { Width = Width, Height = Height }.Export(model, stream));
    }
}
