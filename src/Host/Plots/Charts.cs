using HmmRnn.Host.Output;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace HmmRnn.Host.Plots;

/// <summary>A named line of (x, y) points.</summary>
/// <remarks>Lines with the same <paramref name="Group"/> share a colour (e.g. one agent, concordant solid and discordant dashed).</remarks>
public sealed record Line(string Title, IReadOnlyList<(double X, double Y)> Points, bool Dashed = false, int? Group = null);

/// <summary>A named cloud of points (drawn as dots).</summary>
public sealed record Points(string Title, IReadOnlyList<(double X, double Y)> At, int? Group = null);

/// <summary>An arrow from (X, Y) by (Dx, Dy).</summary>
public readonly record struct Arrow(double X, double Y, double Dx, double Dy);

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
        model.Legends.Add(new Legend { LegendPosition = LegendPosition.RightTop, LegendPlacement = LegendPlacement.Outside }); // outside: a legend never covers data
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

    /// <summary>Dots (optionally over lines), written atomically; returns its path.</summary>
    public static string Scatter(RunFolder folder, string file, string title, string xTitle, string yTitle,
        IEnumerable<Points> clouds, IEnumerable<Line>? lines = null)
    {
        var model = Frame(title, xTitle, yTitle);
        int index = 0;
        foreach (var cloud in clouds)
        {
            var s = new ScatterSeries { Title = cloud.Title, MarkerType = MarkerType.Circle, MarkerSize = 1.5,
                MarkerFill = OxyColor.FromAColor(110, Palette[(cloud.Group ?? index) % Palette.Length]) };
            index++;
            foreach (var (x, y) in cloud.At)
                if (double.IsFinite(x) && double.IsFinite(y)) s.Points.Add(new ScatterPoint(x, y));
            model.Series.Add(s);
        }
        foreach (var line in lines ?? [])
            model.Series.Add(Series(line, index++));
        return Export(folder, file, model);
    }

    /// <summary>
    /// A flow field on a grid of cells <paramref name="cellX"/> × <paramref name="cellY"/>: arrows, all scaled by one factor so
    /// that the longest spans 0.9 of a cell, with diamonds (<paramref name="marks"/>, e.g. fixed points), small dots
    /// (<paramref name="dots"/>, e.g. visited states) and lines on top.
    /// </summary>
    public static string Flow(RunFolder folder, string file, string title, string xTitle, string yTitle, IReadOnlyList<Arrow> arrows,
        double cellX, double cellY, IEnumerable<Points>? marks = null, IEnumerable<Line>? lines = null, IEnumerable<Points>? dots = null)
    {
        var model = Frame(title, xTitle, yTitle);
        var longest = arrows.Count == 0 ? 0 : arrows.Max(a => Math.Sqrt(a.Dx / cellX * (a.Dx / cellX) + a.Dy / cellY * (a.Dy / cellY)));
        var scale = longest > 0 ? 0.9 / longest : 1;
        var colour = OxyColor.FromRgb(90, 90, 90);
        foreach (var a in arrows)
            model.Annotations.Add(new OxyPlot.Annotations.ArrowAnnotation
            {
                StartPoint = new DataPoint(a.X, a.Y), EndPoint = new DataPoint(a.X + scale * a.Dx, a.Y + scale * a.Dy),
                Color = colour, StrokeThickness = 1.2, HeadLength = 4, HeadWidth = 2.5,
            });
        // An invisible series keeps the axes' range around the arrows.
        var extent = new ScatterSeries { MarkerSize = 0 };
        foreach (var a in arrows) extent.Points.Add(new ScatterPoint(a.X, a.Y));
        model.Series.Add(extent);
        int index = 0;
        foreach (var cloud in dots ?? [])
        {
            var d = new ScatterSeries { Title = cloud.Title, MarkerType = MarkerType.Circle, MarkerSize = 1.5,
                MarkerFill = OxyColor.FromAColor(110, Palette[(cloud.Group ?? index++) % Palette.Length]) };
            foreach (var (x, y) in cloud.At) d.Points.Add(new ScatterPoint(x, y));
            model.Series.Add(d);
        }
        foreach (var line in lines ?? []) model.Series.Add(Series(line, index++));
        foreach (var m in marks ?? [])
        {
            var s = new ScatterSeries { Title = m.Title, MarkerType = MarkerType.Diamond, MarkerSize = 6, MarkerFill = Palette[(m.Group ?? index++) % Palette.Length] };
            foreach (var (x, y) in m.At) s.Points.Add(new ScatterPoint(x, y));
            model.Series.Add(s);
        }
        return Export(folder, file, model);
    }

    /// <summary>A heat map of a matrix (rows top to bottom), symmetric colour scale around 0, written atomically.</summary>
    public static string Heatmap(RunFolder folder, string file, string title, string xTitle, string yTitle, double[,] values)
    {
        var model = new PlotModel { Title = title, Background = OxyColors.White };
        double max = 0;
        foreach (var v in values) max = Math.Max(max, Math.Abs(v));
        model.Axes.Add(new LinearColorAxis { Position = AxisPosition.Right, Palette = OxyPalettes.BlueWhiteRed(101), Minimum = -max, Maximum = max });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = xTitle });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = yTitle, StartPosition = 1, EndPosition = 0 });
        int rows = values.GetLength(0), cols = values.GetLength(1);
        var transposed = new double[cols, rows];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) transposed[j, i] = values[i, j];
        model.Series.Add(new HeatMapSeries { X0 = 0, X1 = cols - 1, Y0 = 0, Y1 = rows - 1, Data = transposed, Interpolate = false });
        return Export(folder, file, model);
    }

    private static PlotModel Frame(string title, string xTitle, string yTitle)
    {
        var model = new PlotModel { Title = title, Background = OxyColors.White };
        model.Legends.Add(new Legend { LegendPosition = LegendPosition.RightTop, LegendPlacement = LegendPlacement.Outside, LegendBackground = OxyColor.FromAColor(220, OxyColors.White) });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = xTitle, MajorGridlineStyle = LineStyle.Dot });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = yTitle, MajorGridlineStyle = LineStyle.Dot });
        return model;
    }

    private static LineSeries Series(Line line, int index)
    {
        var s = new LineSeries
        {
            Title = line.Title, LineStyle = line.Dashed ? LineStyle.Dash : LineStyle.Solid,
            Color = Palette[(line.Group ?? index) % Palette.Length],
        };
        foreach (var (x, y) in line.Points)
            if (double.IsFinite(y)) s.Points.Add(new DataPoint(x, y));
        return s;
    }

    private static string Export(RunFolder folder, string file, PlotModel model) =>
        folder.WriteAtomic(file, stream => new OxyPlot.SkiaSharp.PngExporter { Width = Width, Height = Height }.Export(model, stream));
}
