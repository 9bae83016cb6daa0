using System.Buffers.Binary;
using System.Text;

namespace HmmRnn.Host.Output;

/// <summary>
/// A TensorBoard event file: TFRecord-framed <c>tensorflow.Event</c> protocol buffers (tensorflow/core/util/event.proto,
/// summary.proto; framing in tensorflow/core/lib/io/record_writer.cc), written by hand because TorchSharp 0.107's
/// SummaryWriter stamps the header with .NET ticks and the scalars with whole Unix seconds (time ran backwards in
/// TensorBoard, sub-second timing was lost). Each record: the data's length (uint64, little-endian), the masked CRC-32C of
/// those 8 bytes, the data, the masked CRC-32C of the data. Wall times are Unix seconds with fractions, as TensorFlow writes
/// them. Appends and flushes record by record, so a killed run keeps what it logged.
/// </summary>
public sealed class TensorBoardEventFile : IDisposable
{
    private readonly FileStream stream;

    /// <summary>Creates <c>events.out.tfevents.{unix seconds}.{host}</c> in <paramref name="folder"/> and writes its version record.</summary>
    /// <param name="folder">The folder (created if missing).</param>
    /// <param name="wallTime">Unix seconds of the file's start.</param>
    public TensorBoardEventFile(string folder, double wallTime)
    {
        Directory.CreateDirectory(folder);
        var name = FormattableString.Invariant($"events.out.tfevents.{(long)Math.Floor(wallTime)}.{Environment.MachineName}.{Environment.ProcessId}");
        Path = System.IO.Path.Combine(folder, name);
        stream = new FileStream(Path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        var version = new List<byte>();
        WallTime(version, wallTime);
        Bytes(version, 3, Encoding.UTF8.GetBytes("brain.Event:2"));
        Record([.. version]);
    }

    /// <summary>The file written.</summary>
    public string Path { get; }

    /// <summary>One scalar summary: <paramref name="tag"/> = <paramref name="value"/> at <paramref name="step"/>, stamped <paramref name="wallTime"/> (Unix seconds).</summary>
    public void Scalar(string tag, double value, long step, double wallTime)
    {
        ArgumentException.ThrowIfNullOrEmpty(tag);
        var summaryValue = new List<byte>();
        Bytes(summaryValue, 1, Encoding.UTF8.GetBytes(tag));
        summaryValue.Add(2 << 3 | 5); // simple_value: float, fixed32
        Span<byte> f = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(f, (float)value);
        summaryValue.AddRange(f.ToArray());
        var summary = new List<byte>();
        Bytes(summary, 1, [.. summaryValue]);
        var e = new List<byte>();
        WallTime(e, wallTime);
        e.Add(2 << 3 | 0); // step: int64, varint
        Varint(e, (ulong)step);
        Bytes(e, 5, [.. summary]);
        Record([.. e]);
    }

    /// <inheritdoc />
    public void Dispose() => stream.Dispose();

    private void Record(byte[] data)
    {
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], MaskedCrc(header[..8]));
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, MaskedCrc(data));
        stream.Write(header);
        stream.Write(data);
        stream.Write(footer);
        stream.Flush();
    }

    private static void WallTime(List<byte> message, double seconds)
    {
        message.Add(1 << 3 | 1); // wall_time: double, fixed64
        Span<byte> d = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(d, seconds);
        message.AddRange(d.ToArray());
    }

    private static void Bytes(List<byte> message, int field, byte[] payload)
    {
        message.Add((byte)(field << 3 | 2)); // length-delimited
        Varint(message, (ulong)payload.Length);
        message.AddRange(payload);
    }

    private static void Varint(List<byte> message, ulong value)
    {
        while (value >= 0x80)
        {
            message.Add((byte)(value | 0x80));
            value >>= 7;
        }
        message.Add((byte)value);
    }

    /// <summary>TFRecord's mask of a CRC-32C: rotated right by 15 bits plus 0xa282ead8.</summary>
    internal static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        var crc = Crc32C(data);
        return unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
    }

    /// <summary>CRC-32C (Castagnoli), TFRecord's checksum.</summary>
    internal static uint Crc32C(ReadOnlySpan<byte> data) => Crc.Reflected32(data, Crc.Castagnoli);
}
