using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace HmmRnn.Host.Output;

/// <summary>One array for an .npz file: a name, a shape, and its values in row-major order.</summary>
/// <param name="Name">The name NumPy shows (the entry is Name.npy).</param>
/// <param name="Shape">The dimensions.</param>
/// <param name="Values">float32 values (dtype &lt;f4); give exactly one of the three.</param>
/// <param name="Bytes">uint8 values (dtype |u1), e.g. UTF-8 text.</param>
/// <param name="Doubles">float64 values (dtype &lt;f8).</param>
/// <param name="Strings">Text (dtype &lt;U<i>n</i>, UTF-32 little-endian, each padded to the longest): NumPy reads it as an array of
/// str without <c>allow_pickle</c>.</param>
public sealed record NpyArray(string Name, int[] Shape, float[]? Values = null, byte[]? Bytes = null, double[]? Doubles = null, string[]? Strings = null)
{
    /// <summary>One line or a list of labels as a 1-D string array.</summary>
    public static NpyArray Text(string name, params string[] values) => new(name, [values.Length], Strings: values);
}

/// <summary>
/// NumPy's .npz format, written by our own code: a zip archive of .npy files (format version 1.0: the magic
/// "\x93NUMPY", version 1.0, a little-endian header length, a Python-dict header padded with spaces to a
/// multiple of 64 bytes and ended by a newline, then the raw little-endian data). Opened by
/// <c>numpy.load</c>, Julia's NPZ.jl and MATLAB readers of .npy.
/// </summary>
public static class Npz
{
    /// <summary>Writes the arrays into <paramref name="stream"/> as an (uncompressed) .npz archive.</summary>
    public static void Write(Stream stream, IEnumerable<NpyArray> arrays)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(arrays);
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        foreach (var a in arrays)
        {
            var entry = zip.CreateEntry(a.Name + ".npy", CompressionLevel.NoCompression);
            entry.LastWriteTime = new DateTimeOffset(1980, 1, 1, 0, 0, 0, TimeSpan.Zero); // same weights, same bytes
            using var s = entry.Open();
            WriteNpy(s, a);
        }
    }

    /// <summary>One .npy file.</summary>
    public static void WriteNpy(Stream stream, NpyArray array)
    {
        ArgumentNullException.ThrowIfNull(array);
        var count = array.Shape.Aggregate(1L, (p, d) => p * d);
        if (new object?[] { array.Values, array.Bytes, array.Doubles, array.Strings }.Count(x => x is not null) != 1)
            throw new ArgumentException($"{array.Name}: give exactly one of Values, Bytes, Doubles, Strings", nameof(array));
        // A string's width in UTF-32 code points (a character outside the BMP is one code point, two UTF-16 chars).
        var width = array.Strings is { } text ? Math.Max(1, text.Max(t => Encoding.UTF32.GetByteCount(t) / 4)) : 0;
        var (dtype, length) = array.Values is { } v ? ("<f4", v.Length) : array.Bytes is { } b ? ("|u1", b.Length)
            : array.Doubles is { } d ? ("<f8", d.Length) : ($"<U{width}", array.Strings!.Length);
        if (length != count) throw new ArgumentException($"{array.Name}: {length} values for shape ({string.Join(", ", array.Shape)})", nameof(array));
        var shape = array.Shape.Length == 1 ? $"({array.Shape[0]},)" : "(" + string.Join(", ", array.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")";
        var header = $"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {shape}, }}";
        var total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        using var w = new BinaryWriter(stream, Encoding.ASCII, leaveOpen: true);
        w.Write((byte)0x93);
        w.Write("NUMPY"u8);
        w.Write((byte)1);
        w.Write((byte)0);
        w.Write((ushort)header.Length);
        w.Write(Encoding.ASCII.GetBytes(header));
        if (array.Values is { } values)
            foreach (var x in values) w.Write(x); // BinaryWriter writes little-endian
        else if (array.Doubles is { } doubles)
            foreach (var x in doubles) w.Write(x);
        else if (array.Strings is { } strings)
            foreach (var t in strings)
            {
                var bytes = Encoding.UTF32.GetBytes(t); // .NET's UTF32 encoding is little-endian
                w.Write(bytes);
                w.Write(new byte[4 * width - bytes.Length]);
            }
        else w.Write(array.Bytes!);
    }
}
