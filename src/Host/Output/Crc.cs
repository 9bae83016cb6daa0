namespace HmmRnn.Host.Output;

/// <summary>
/// The reflected CRC-32 family, bit by bit (the files it checks are small: PNG text chunks, TensorBoard records): start
/// 0xFFFFFFFF, shift right, XOR the polynomial on a carried-out 1, complement at the end. The formats differ only in the
/// polynomial.
/// </summary>
internal static class Crc
{
    /// <summary>CRC-32 of ISO 3309 / PNG (0x04C11DB7 reflected); check value of "123456789": 0xCBF43926.</summary>
    public const uint Iso3309 = 0xEDB88320u;

    /// <summary>CRC-32C, Castagnoli (0x1EDC6F41 reflected), TFRecord's; check value of "123456789": 0xE3069283.</summary>
    public const uint Castagnoli = 0x82F63B78u;

    /// <summary>The reflected CRC-32 of <paramref name="data"/> with the reflected <paramref name="polynomial"/>.</summary>
    public static uint Reflected32(ReadOnlySpan<byte> data, uint polynomial)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ polynomial : crc >> 1;
        }
        return ~crc;
    }
}
