using HmmRnn.Host.Output;
using HmmRnn.Host.Plots;
using HmmRnn.Host.Tasks.Hmm;
using SkiaSharp;

namespace HmmRnn.Host.Tests;

/// <summary>transition.png: three heat maps side by side (RNN, HMM, difference), read back pixel by pixel.</summary>
public class FigureTests : TempFolderTest
{
    private static readonly double[][] Exact = [[0.75, 0.01, 0.24], [0.50, 0.01, 0.49], [0.24, 0.01, 0.75]];

    private static double[][] Shifted(double by) => [[0.75 - by, 0.01, 0.24 + by], [0.50, 0.01, 0.49], [0.24 + by, 0.01, 0.75 - by]];

    /// <summary>Pixels of one panel: strongly red, strongly blue, and not white (anything drawn).</summary>
    private static (int Red, int Blue, int Ink) Count(SKBitmap bitmap, int panel)
    {
        int red = 0, blue = 0, ink = 0;
        for (int y = Charts.TitleBand; y < bitmap.Height; y++)
            for (int x = panel * Charts.PanelWidth; x < (panel + 1) * Charts.PanelWidth; x++)
            {
                var c = bitmap.GetPixel(x, y);
                if (c.Red > c.Green + 60 && c.Red > c.Blue + 40) red++;
                if (c.Blue > c.Red + 60) blue++;
                if (c.Red < 200 || c.Green < 200 || c.Blue < 200) ink++;
            }
        return (red, blue, ink);
    }

    private (string Path, SKBitmap Bitmap) Draw(string name, double[][] rnn)
    {
        var path = Evaluation.TransitionFigure(RunFolder.Create(Path.Combine(Root, name)), "linear3", rnn, Exact);
        return (path, SKBitmap.Decode(path));
    }

    [Fact]
    public void Transition_figure_is_three_panels_blue_probabilities_and_a_red_blue_difference()
    {
        var (path, bitmap) = Draw("shifted", Shifted(0.1));
        using var _ = bitmap;
        Assert.Equal("transition.png", Path.GetFileName(path));
        Assert.Equal(3 * Charts.PanelWidth, bitmap.Width);
        Assert.Equal(Charts.TitleBand + Charts.PanelHeight, bitmap.Height);
        var panels = Enumerable.Range(0, 3).Select(p => Count(bitmap, p)).ToArray();
        // Every panel drawn where it belongs (a panel rendered at the wrong offset leaves its third white).
        Assert.All(panels, p => Assert.True(p.Ink > Charts.PanelWidth * Charts.PanelHeight / 5, $"{p.Ink} pixels drawn"));
        // Probabilities on a white-to-blue scale: no red at all. The difference: +0.1 cells red, −0.1 cells blue, each a whole cell.
        Assert.Equal(0, panels[0].Red);
        Assert.Equal(0, panels[1].Red);
        Assert.True(panels[2].Red > 10_000, $"{panels[2].Red} red pixels");
        Assert.True(panels[2].Blue > 10_000, $"{panels[2].Blue} blue pixels");
    }

    [Fact]
    public void A_difference_of_a_thousandth_stays_pale_and_none_at_all_still_draws()
    {
        // The difference scale reaches at least ±0.05: a good emulation's ±0.001 must not fill it (only the colour bar is saturated).
        using var large = Draw("large", Shifted(0.1)).Bitmap;
        using var tiny = Draw("tiny", Shifted(0.001)).Bitmap;
        var (bigRed, bigBlue, _) = Count(large, 2);
        var (red, blue, _) = Count(tiny, 2);
        Assert.True(red < bigRed / 4 && blue < bigBlue / 4, $"±0.001: {red} red, {blue} blue pixels; ±0.1: {bigRed}, {bigBlue}");
        // No difference at all: a degenerate colour range must still give a picture.
        using var none = Draw("none", Exact).Bitmap;
        Assert.True(Count(none, 2).Ink > 0);
    }

    [Fact]
    public void Matrices_of_different_sizes_are_refused()
    {
        var folder = RunFolder.Create(Path.Combine(Root, "bad"));
        var e = Assert.Throws<ArgumentException>(() => Evaluation.TransitionFigure(folder, "linear3", [[0.5, 0.5], [0.5, 0.5]], Exact));
        Assert.Contains("RNN 2 rows, HMM 3", e.Message, StringComparison.Ordinal);
    }

    // Bug caught: a chunk CRC computed over the wrong bytes (viewers reject the file), the title inserted before IHDR (not a
    // PNG any more) or not found again, non-ASCII titles mangled. The CRC is checked by an independent table-driven CRC-32.
    [Fact]
    public void A_figure_carries_its_title_inside_the_png()
    {
        var folder = HmmRnn.Host.Output.RunFolder.Create(Path.Combine(Path.GetTempPath(), "hmmrnn-pngtext-" + Guid.NewGuid().ToString("N")));
        try
        {
            const string title = "P(o_t+k = o_t): RNN vs HMM, σ = 0.2 [μ]";
            var path = HmmRnn.Host.Plots.Charts.Lines(folder, "t.png", title, "x", "y", [new HmmRnn.Host.Plots.Line("a", [(0, 1), (1, 2)])]);
            Assert.Equal(title, HmmRnn.Host.Plots.PngText.ReadTitle(path));
            var png = File.ReadAllBytes(path);
            using (var bitmap = SkiaSharp.SKBitmap.Decode(png)) Assert.Equal(HmmRnn.Host.Plots.Charts.Width, bitmap.Width);
            Assert.Equal(0xCBF43926u, TableCrc32("123456789"u8)); // the CRC-32 check value (ISO 3309)
            for (int at = 8; at < png.Length;)
            {
                var length = (png[at] << 24) | (png[at + 1] << 16) | (png[at + 2] << 8) | png[at + 3];
                var stored = (uint)((png[at + 8 + length] << 24) | (png[at + 9 + length] << 16) | (png[at + 10 + length] << 8) | png[at + 11 + length]);
                Assert.Equal(TableCrc32(png.AsSpan(at + 4, 4 + length)), stored);
                at += 12 + length;
            }
            Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(png, 12, 4));
        }
        finally { Directory.Delete(folder.Path, true); }
    }

    private static uint TableCrc32(ReadOnlySpan<byte> data)
    {
        var table = Enumerable.Range(0, 256).Select(i =>
        {
            uint c = (uint)i;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            return c;
        }).ToArray();
        uint crc = ~0u;
        foreach (var b in data) crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }
}
