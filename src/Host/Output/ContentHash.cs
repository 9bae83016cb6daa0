using System.Security.Cryptography;
using System.Text;

namespace HmmRnn.Host.Output;

/// <summary>
/// The short content hash every record of "what produced this" uses (a run's configuration, a pipeline stage's
/// inputs): the first 16 hex digits, lower case, of a SHA-256.
/// </summary>
public static class ContentHash
{
    /// <summary>Of a text's UTF-8 bytes.</summary>
    public static string Of(string text) => Short(SHA256.HashData(Encoding.UTF8.GetBytes(text ?? throw new ArgumentNullException(nameof(text)))));

    /// <summary>Of a file's bytes.</summary>
    public static string OfFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Short(SHA256.HashData(stream));
    }

    private static string Short(byte[] digest) => Convert.ToHexString(digest)[..16].ToLowerInvariant();
}
