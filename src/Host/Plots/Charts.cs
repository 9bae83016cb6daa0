using HmmRnn.Host.Output;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;
using OxyPlot.SkiaSharp;
using SkiaSharp;

namespace HmmRnn.Host.Plots;

/// <summary>A named line of (x, y) points.</summary>
/// <remarks>Lines with the same <paramref name="Group"/> share a colour (e.g. one agent, concordant solid and discordant dashed).</remarks>
public sealed record Line(string Title, IReadOnlyList<(double X, double Y)> Points, bool Dashed = false, int? Group = null)
{
    /// <summary>Draw the points as markers only, without the line through them (data beside a fitted curve).</summary>
    public bool MarkersOnly { get; init; }

    /// <summary>Draw the line without markers (a fitted curve on a dense grid).</summary>
    public bool NoMarkers { get; init; }

    /// <summary>An error bar at each point (its low and high end, in y), drawn in the line's colour; null: none.</summary>
    public IReadOnlyList<(double Low, double High)>? Errors { get; init; }
}

/// <summary>A named cloud of points (drawn as dots).</summary>
public sealed record Points(string Title, IReadOnlyList<(double X, double Y)> At, int? Group = null)
{
    /// <summary>Dot radius in pixels (1.5: a dense cloud; larger for a sparse one that must stand out).</summary>
    public double Size { get; init; } = 1.5;

    /// <summary>Full colour instead of the translucent fill that lets a dense cloud show its density.</summary>
    public bool Opaque { get; init; }
}

/// <summary>An arrow from (X, Y) by (Dx, Dy).</summary>
public readonly record struct Arrow(double X, double Y, double Dx, double Dy);

/// <summary>One heat map of <see cref="Charts.Heatmaps"/>: a matrix drawn with rows top to bottom.</summary>
/// <param name="Title">The panel's own title.</param>
/// <param name="Values">The matrix [row, column].</param>
/// <param name="XTitle">What the columns are.</param>
/// <param name="YTitle">What the rows are.</param>
public sealed record HeatmapPanel(string Title, double[,] Values, string XTitle, string YTitle)
{
    /// <summary>A diverging colour scale centred on 0 (the default), or a sequential one.</summary>
    public bool Diverging { get; init; } = true;

    /// <summary>The colour scale's ends; null: symmetric around 0 out to the largest |value|.</summary>
    public (double Min, double Max)? Range { get; init; }

    /// <summary>Each cell labelled with its value in this .NET format (e.g. "0.00"); null: no labels.</summary>
    public string? CellFormat { get; init; }

    /// <summary>One tick per row and column, labelled with its index (categorical axes: symbols, units).</summary>
    public bool IndexTicks { get; init; }

    /// <summary>The colour bar's title.</summary>
    public string ColourTitle { get; init; } = "";

    /// <summary>Lines between groups of rows and columns: each entry the index of a group's first row (= column), e.g. pools.</summary>
    public IReadOnlyList<int> Boundaries { get; init; } = [];
}

/// <summary>PNG charts through OxyPlot + SkiaSharp (headless; no display needed).</summary>
public static partial class Charts
{
    /// <summary>Chart size in pixels.</summary>
    public const int Width = 900, Height = 600;

    /// <summary>
    /// The marker a stage's Markdown puts where a figure (a file name, or a pattern such as flow-*.png) belongs: an HTML
    /// comment, invisible in any Markdown viewer; the report puts the figures there, beside their text.
    /// </summary>
    public static string Here(string nameOrPattern) => $"<!-- figure: {nameOrPattern} -->";

    /// <summary>What <see cref="Here"/> writes, for the report to find: the name or pattern is group 1.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"<!-- figure: ([A-Za-z0-9_.*-]+) -->")]
    internal static partial System.Text.RegularExpressions.Regex HereMarker();

    /// <summary>Legend swatch length in pixels: OxyPlot's 16 shows one dash of a dashed line, which reads as solid.</summary>
    private const double LegendSwatch = 40;

    /// <summary>Colour-blind-safe colours (Okabe–Ito).</summary>
    private static readonly OxyColor[] Palette =
    [
        OxyColor.FromRgb(0, 114, 178), OxyColor.FromRgb(213, 94, 0), OxyColor.FromRgb(0, 158, 115),
        OxyColor.FromRgb(204, 121, 167), OxyColor.FromRgb(230, 159, 0), OxyColor.FromRgb(86, 180, 233), OxyColor.FromRgb(0, 0, 0),
    ];

    /// <summary>A line chart written atomically into <paramref name="folder"/>; returns its path.</summary>
    /// <remarks>
    /// The y axis spans [<paramref name="yMin"/>, <paramref name="yMax"/>] (each the data's own where not given) with a margin of
    /// 3% either side, so that points on a bound (a probability of 1) are not drawn on the frame. <paramref name="logY"/>: a
    /// logarithmic y axis over the positive values (the bounds are then ignored).
    /// </remarks>
    public static string Lines(RunFolder folder, string file, string title, string xTitle, string yTitle,
        IEnumerable<Line> lines, double? yMin = null, double? yMax = null, bool logY = false, bool integerX = false)
    {
        var model = NewModel(title);
        // Outside: a legend never covers data; swatches long enough to show a dashed line as dashed.
        model.Legends.Add(new Legend { LegendPosition = LegendPosition.RightTop, LegendPlacement = LegendPlacement.Outside, LegendSymbolLength = LegendSwatch });
        // integerX: whole-number ticks only (a count or a size has no tick at 2.5).
        model.Axes.Add(integerX
            ? new LinearAxis { Position = AxisPosition.Bottom, Title = xTitle, MajorGridlineStyle = LineStyle.Dot, MinimumMajorStep = 1, MinimumMinorStep = 1, StringFormat = "0" }
            : new LinearAxis { Position = AxisPosition.Bottom, Title = xTitle, MajorGridlineStyle = LineStyle.Dot });
        var palette = Palette;
        int index = 0;
        foreach (var line in lines)
        {
            var s = new LineSeries
            {
                Title = line.Title, MarkerType = line.NoMarkers ? MarkerType.None : MarkerType.Circle, MarkerSize = line.MarkersOnly ? 4 : 3,
                LineStyle = line.MarkersOnly ? LineStyle.None : line.Dashed ? LineStyle.Dash : LineStyle.Solid,
                StrokeThickness = line.MarkersOnly ? 0 : 2, // 0: the legend draws no line beside markers-only data either
                Color = palette[(line.Group ?? index) % palette.Length],
            };
            index++;
            foreach (var (x, y) in line.Points)
                if (double.IsFinite(y) && (!logY || y > 0)) s.Points.Add(new DataPoint(x, y));
            model.Series.Add(s);
            if (line.Errors is { } errors) model.Series.Add(ErrorBars(line.Points, errors, s.Color));
        }
        if (logY)
            model.Axes.Add(new LogarithmicAxis { Position = AxisPosition.Left, Title = yTitle, MajorGridlineStyle = LineStyle.Dot });
        else
        {
            var ys = model.Series.OfType<LineSeries>().SelectMany(x => x.Points).Select(p => p.Y).ToArray();
            double lo = yMin ?? (ys.Length > 0 ? ys.Min() : 0), hi = yMax ?? (ys.Length > 0 ? ys.Max() : 1);
            if (!(hi > lo)) (lo, hi) = (lo - 0.5, hi + 0.5);
            var margin = 0.03 * (hi - lo);
            model.Axes.Add(new LinearAxis
            {
                Position = AxisPosition.Left, Title = yTitle, MajorGridlineStyle = LineStyle.Dot, Minimum = lo - margin, Maximum = hi + margin,
            });
        }
        return Export(folder, file, model);
    }

    /// <summary>
    /// Vertical bars from each point's low to its high end with short caps, as one line series broken between bars (OxyPlot
    /// breaks a line at an undefined point), not in the legend; bars with a non-finite end are left out.
    /// </summary>
    private static LineSeries ErrorBars(IReadOnlyList<(double X, double Y)> points, IReadOnlyList<(double Low, double High)> errors, OxyColor colour)
    {
        if (errors.Count != points.Count) throw new ArgumentException($"{errors.Count} error bars for {points.Count} points", nameof(errors));
        var xs = points.Select(p => p.X).Where(double.IsFinite).ToArray();
        var cap = xs.Length > 1 ? 0.008 * (xs.Max() - xs.Min()) : 0.01;
        var bars = new LineSeries { Color = colour, StrokeThickness = 1.2, MarkerType = MarkerType.None, RenderInLegend = false };
        for (int i = 0; i < points.Count; i++)
        {
            var (x, (low, high)) = (points[i].X, errors[i]);
            if (!double.IsFinite(x) || !double.IsFinite(low) || !double.IsFinite(high)) continue;
            bars.Points.AddRange([new(x - cap, low), new(x + cap, low), DataPoint.Undefined, new(x, low), new(x, high), DataPoint.Undefined,
                                  new(x - cap, high), new(x + cap, high), DataPoint.Undefined]);
        }
        return bars;
    }

    /// <summary>Dots (optionally over lines), written atomically; returns its path.</summary>
    public static string Scatter(RunFolder folder, string file, string title, string xTitle, string yTitle,
        IEnumerable<Points> clouds, IEnumerable<Line>? lines = null)
    {
        var model = Frame(title, xTitle, yTitle);
        int index = 0;
        foreach (var cloud in clouds)
        {
            var colour = Palette[(cloud.Group ?? index) % Palette.Length];
            var s = new ScatterSeries { Title = cloud.Title, MarkerType = MarkerType.Circle, MarkerSize = cloud.Size,
                MarkerFill = cloud.Opaque ? colour : OxyColor.FromAColor(110, colour) };
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
            if (m.At.Count == 0) continue; // no legend entry for a kind of point not found
            var s = new ScatterSeries { Title = m.Title, MarkerType = MarkerType.Diamond, MarkerSize = 6, MarkerFill = Palette[(m.Group ?? index++) % Palette.Length] };
            foreach (var (x, y) in m.At) s.Points.Add(new ScatterPoint(x, y));
            model.Series.Add(s);
        }
        return Export(folder, file, model);
    }

    /// <summary>A heat map of a matrix (rows top to bottom), symmetric colour scale around 0, written atomically.</summary>
    public static string Heatmap(RunFolder folder, string file, string title, string xTitle, string yTitle, double[,] values, string colourTitle = "") =>
        Export(folder, file, HeatmapModel(new HeatmapPanel(title, values, xTitle, yTitle) { ColourTitle = colourTitle }));

    /// <summary>Size in pixels of one panel of <see cref="Heatmaps"/>, and the band above the panels for the figure's title.</summary>
    public const int PanelWidth = 520, PanelHeight = 500, TitleBand = 44;

    /// <summary>
    /// Several heat maps side by side in one PNG (each <see cref="PanelWidth"/> × <see cref="PanelHeight"/>, with its own title
    /// and colour bar) under one <paramref name="title"/>, written atomically; returns its path.
    /// </summary>
    public static string Heatmaps(RunFolder folder, string file, string title, IReadOnlyList<HeatmapPanel> panels)
    {
        ArgumentNullException.ThrowIfNull(panels);
        if (panels.Count == 0) throw new ArgumentException("needs at least one panel", nameof(panels));
        var models = panels.Select(HeatmapModel).ToArray();
        foreach (var m in models) m.PlotMargins = new OxyThickness(double.NaN, 12, double.NaN, double.NaN); // one top edge for every panel
        int width = PanelWidth * models.Length, height = TitleBand + PanelHeight;
        return folder.WriteAtomic(file, stream =>
        {
            // As OxyPlot.SkiaSharp's PngExporter renders one model, but each model into its own part of one canvas.
            using var bitmap = new SKBitmap(width, height);
            using (var canvas = new SKCanvas(bitmap))
            using (var context = new SkiaRenderContext { RenderTarget = RenderTarget.PixelGraphic, SkCanvas = canvas, UseTextShaping = true })
            {
                canvas.Clear(SKColors.White);
                var font = models[0];
                context.DrawText(new ScreenPoint(width / 2.0, 10), title, OxyColors.Black, font.DefaultFont, font.TitleFontSize, FontWeights.Bold,
                    0, HorizontalAlignment.Center, VerticalAlignment.Top);
                for (int i = 0; i < models.Length; i++)
                {
                    canvas.Save();
                    canvas.Translate(i * PanelWidth, TitleBand);
                    ((IPlotModel)models[i]).Update(true);
                    ((IPlotModel)models[i]).Render(context, new OxyRect(0, 0, PanelWidth, PanelHeight));
                    canvas.Restore();
                }
            }
            using var png = new MemoryStream();
            using (var skStream = new SKManagedWStream(png)) bitmap.Encode(skStream, SKEncodedImageFormat.Png, 100);
            stream.Write(PngText.WithTitle(png.ToArray(), title));
        });
    }

    /// <summary>The one drawing of a heat map: a panel's matrix, rows top to bottom, its colour scale, ticks and cell labels.</summary>
    private static PlotModel HeatmapModel(HeatmapPanel panel)
    {
        var values = panel.Values;
        int rows = values.GetLength(0), cols = values.GetLength(1);
        if (rows == 0 || cols == 0) throw new ArgumentException($"{panel.Title}: an empty matrix ({rows} × {cols})", nameof(panel));
        var model = NewModel(panel.Title);
        double min, max;
        if (panel.Range is var (lo, hi)) (min, max) = (lo, hi);
        else
        {
            double largest = 0;
            foreach (var v in values) if (double.IsFinite(v)) largest = Math.Max(largest, Math.Abs(v));
            (min, max) = (-largest, largest);
        }
        if (!(max > min)) (min, max) = (min - 1e-3, max + 1e-3); // all cells equal (e.g. no difference at all): a scale still
        model.Axes.Add(new LinearColorAxis
        {
            Position = AxisPosition.Right, Palette = panel.Diverging ? Diverging : Sequential, Minimum = min, Maximum = max,
            Title = panel.ColourTitle, MinorTickSize = 0,
        });
        model.Axes.Add(HeatmapAxis(AxisPosition.Bottom, panel.XTitle, cols, panel.IndexTicks));
        var left = HeatmapAxis(AxisPosition.Left, panel.YTitle, rows, panel.IndexTicks);
        left.StartPosition = 1;
        left.EndPosition = 0;
        model.Axes.Add(left);
        var transposed = new double[cols, rows]; // OxyPlot indexes data [x, y]
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) transposed[j, i] = values[i, j];
        var series = new LabelledHeatMap
        {
            X0 = 0, X1 = cols - 1, Y0 = 0, Y1 = rows - 1, Data = transposed, Interpolate = false,
            RenderMethod = HeatMapRenderMethod.Rectangles,
        };
        if (panel.CellFormat is { } format)
        {
            series.LabelFormatString = format;
            // A fraction of the (about square) cell's height: smaller for longer labels, so the longest fits its cell's width,
            // and at most ~18 px on a panel's ~360 px of plot (few, large cells).
            int longest = 1;
            foreach (var v in values) longest = Math.Max(longest, v.ToString(format, System.Globalization.CultureInfo.InvariantCulture).Length);
            series.LabelFontSize = Math.Min(1.1 / longest, Math.Max(rows, cols) / 20.0);
        }
        model.Series.Add(series);
        foreach (var b in panel.Boundaries.Where(b => b > 0))
        {
            // Between cells b − 1 and b (cell centres sit on whole numbers).
            model.Annotations.Add(new OxyPlot.Annotations.LineAnnotation { Type = OxyPlot.Annotations.LineAnnotationType.Vertical, X = b - 0.5, Color = OxyColors.Black, StrokeThickness = 1.5, LineStyle = LineStyle.Solid });
            model.Annotations.Add(new OxyPlot.Annotations.LineAnnotation { Type = OxyPlot.Annotations.LineAnnotationType.Horizontal, Y = b - 0.5, Color = OxyColors.Black, StrokeThickness = 1.5, LineStyle = LineStyle.Solid });
        }
        return model;
    }

    /// <summary>
    /// OxyPlot's heat map, its cell labels coloured by the cell's luminance (its own rule, HSV value &gt; 0.6, puts black on
    /// dark red); NaN cells unlabelled.
    /// </summary>
    private sealed class LabelledHeatMap : HeatMapSeries
    {
        protected override void RenderLabels(IRenderContext rc, OxyRect rect)
        {
            int m = Data.GetLength(0), n = Data.GetLength(1);
            double dx = m > 1 ? (X1 - X0) / (m - 1) : 0, dy = n > 1 ? (Y1 - Y0) / (n - 1) : 0;
            var fontSize = rect.Height / n * LabelFontSize;
            rc.PushClip(GetClippingRect());
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    var v = Data[i, j];
                    if (double.IsNaN(v)) continue;
                    var cell = ColorAxis.GetColor(v);
                    var luminance = (0.299 * cell.R + 0.587 * cell.G + 0.114 * cell.B) / 255;
                    rc.DrawText(Transform(new DataPoint(X0 + i * dx, Y0 + j * dy)), v.ToString(LabelFormatString, ActualCulture),
                        luminance > 0.5 ? OxyColors.Black : OxyColors.White, ActualFont, fontSize, 500, 0, HorizontalAlignment.Center, VerticalAlignment.Middle);
                }
            rc.PopClip();
        }
    }

    private static LinearAxis HeatmapAxis(AxisPosition position, string title, int cells, bool indexTicks) => indexTicks
        ? new LinearAxis
        {
            Position = position, Title = title, Minimum = -0.5, Maximum = cells - 0.5, MajorStep = 1, MinorStep = 1, MinorTickSize = 0,
            StringFormat = "0", IsZoomEnabled = false, IsPanEnabled = false,
        }
        : new LinearAxis { Position = position, Title = title };

    /// <summary>Diverging, centred on white (ColorBrewer RdBu, blue for negative); its ends dark enough for white labels.</summary>
    private static readonly OxyPalette Diverging = OxyPalette.Interpolate(101,
        OxyColor.FromRgb(5, 48, 97), OxyColor.FromRgb(33, 102, 172), OxyColor.FromRgb(146, 197, 222), OxyColor.FromRgb(247, 247, 247),
        OxyColor.FromRgb(244, 165, 130), OxyColor.FromRgb(178, 24, 43), OxyColor.FromRgb(103, 0, 31));

    /// <summary>Sequential, white for 0 to dark blue (ColorBrewer Blues), so 0 looks the same as in <see cref="Diverging"/>.</summary>
    private static readonly OxyPalette Sequential = OxyPalette.Interpolate(101,
        OxyColor.FromRgb(247, 251, 255), OxyColor.FromRgb(198, 219, 239), OxyColor.FromRgb(107, 174, 214), OxyColor.FromRgb(33, 113, 181),
        OxyColor.FromRgb(8, 48, 107));

    /// <summary>
    /// The font of every chart. Named, because OxyPlot's default ("Segoe UI") is missing on Linux and Skia's fallback for it
    /// differed between processes (serif in one, sans in another); where this one is missing too, the fallback is as before.
    /// </summary>
    public const string Font = "DejaVu Sans";

    /// <summary>A white model whose title is centred on the whole picture, not on the plot area beside an outside legend (more room, never clipped at the left).</summary>
    private static PlotModel NewModel(string title) =>
        new() { Title = title, Background = OxyColors.White, TitleHorizontalAlignment = TitleHorizontalAlignment.CenteredWithinView, DefaultFont = Font,
            TitleFontWeight = FontWeights.Normal };

    private static PlotModel Frame(string title, string xTitle, string yTitle)
    {
        var model = NewModel(title);
        model.Legends.Add(new Legend { LegendPosition = LegendPosition.RightTop, LegendPlacement = LegendPlacement.Outside, LegendBackground = OxyColor.FromAColor(220, OxyColors.White),
            LegendSymbolLength = LegendSwatch });
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

    /// <summary>Writes the PNG atomically, its title inside it (<see cref="PngText"/>) for the report's caption.</summary>
    private static string Export(RunFolder folder, string file, PlotModel model) =>
        folder.WriteAtomic(file, stream =>
        {
            using var png = new MemoryStream();
            new OxyPlot.SkiaSharp.PngExporter { Width = Width, Height = Height }.Export(model, png);
            stream.Write(string.IsNullOrEmpty(model.Title) ? png.ToArray() : PngText.WithTitle(png.ToArray(), model.Title));
        });
}
