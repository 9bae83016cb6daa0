using System.Buffers.Binary;
using System.Text;
using HmmRnn.Host.Output;

namespace HmmRnn.Host.Plots;

/// <summary>
/// A figure's title carried inside its PNG as an international text chunk (iTXt, keyword "Title"; PNG specification
/// §11.3.4.5), so that a report can caption any figure with what it shows rather than its file name, and the file
/// says what it is when opened on its own.
/// </summary>
public static class PngText
{
    private static readonly byte[] Signature = [137, 80, 78, 71, 13, 10, 26, 10];

    /// <summary>The PNG <paramref name="png"/> with an uncompressed iTXt "Title" chunk holding <paramref name="title"/> right after IHDR.</summary>
    /// <exception cref="InvalidDataException">not a PNG.</exception>
    public static byte[] WithTitle(byte[] png, string title)
    {
        ArgumentNullException.ThrowIfNull(png);
        ArgumentNullException.ThrowIfNull(title);
        if (png.Length < 33 || !png.AsSpan(0, 8).SequenceEqual(Signature)) throw new InvalidDataException("not a PNG");
        var afterHeader = 8 + 12 + (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(8)); // IHDR is always first
        // keyword, 0, compression flag 0, method 0, language tag "" 0, translated keyword "" 0, UTF-8 text.
        var data = Encoding.Latin1.GetBytes("Title").Concat(new byte[] { 0, 0, 0, 0, 0 }).Concat(Encoding.UTF8.GetBytes(title)).ToArray();
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(chunk, (uint)data.Length);
        Encoding.ASCII.GetBytes("iTXt").CopyTo(chunk, 4);
        data.CopyTo(chunk, 8);
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), Crc32(chunk.AsSpan(4, 4 + data.Length)));
        return [.. png.AsSpan(0, afterHeader), .. chunk, .. png.AsSpan(afterHeader)];
    }

    /// <summary>The iTXt "Title" of the PNG at <paramref name="path"/>, or null (no such chunk, not a PNG, unreadable).</summary>
    public static string? ReadTitle(string path)
    {
        byte[] png;
        try { png = File.ReadAllBytes(path); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
        if (png.Length < 8 || !png.AsSpan(0, 8).SequenceEqual(Signature)) return null;
        for (int at = 8; at + 12 <= png.Length;)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at));
            if (length < 0 || at + 12 + length > png.Length) return null;
            var type = Encoding.ASCII.GetString(png, at + 4, 4);
            if (type == "IDAT" || type == "IEND") return null; // text chunks we write come before the image data
            if (type == "iTXt")
            {
                var data = png.AsSpan(at + 8, length);
                var keyEnd = data.IndexOf((byte)0);
                if (keyEnd > 0 && Encoding.Latin1.GetString(data[..keyEnd]) == "Title" && data.Length >= keyEnd + 3 && data[keyEnd + 1] == 0)
                {
                    var rest = data[(keyEnd + 3)..];
                    var language = rest.IndexOf((byte)0);
                    if (language < 0) return null;
                    rest = rest[(language + 1)..];
                    var translated = rest.IndexOf((byte)0);
                    if (translated < 0) return null;
                    return Encoding.UTF8.GetString(rest[(translated + 1)..]);
                }
            }
            at += 12 + length;
        }
        return null;
    }

    /// <summary>The CRC-32 of PNG chunks (ISO 3309) over type and data.</summary>
    internal static uint Crc32(ReadOnlySpan<byte> bytes) => Crc.Reflected32(bytes, Crc.Iso3309);
}
