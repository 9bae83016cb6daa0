using System.Text.Json;
using HmmRnn.Host.Cli;

namespace HmmRnn.Host.Tests;

/// <summary><c>compare</c> end to end on tiny trained runs: the file it writes, and a network against a copy of itself.</summary>
[Collection("torch")]
public sealed class CompareCommandTests(TrainedRuns runs) : IClassFixture<TrainedRuns>
{
    private static void Copy(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories)) Directory.CreateDirectory(dir.Replace(from, to, StringComparison.Ordinal));
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories)) File.Copy(file, file.Replace(from, to, StringComparison.Ordinal));
    }

    /// <summary>
    /// Two copies of one network (each fitted on its own noise substream): a symmetric matrix with a zero diagonal, the rows
    /// in the order the runs were given. Bugs caught: a matrix written transposed or unsymmetrised, the diagonal left unset, labels out of
    /// order with the rows.
    /// </summary>
    [Fact]
    public void Similarity_json_holds_a_symmetric_matrix_with_a_zero_diagonal()
    {
        var tmp = Path.Combine(Path.GetTempPath(), "hmmrnn-compare-" + Guid.NewGuid().ToString("N"));
        try
        {
            Copy(Path.Combine(runs.Root, "hmm"), Path.Combine(tmp, "a"));
            Copy(Path.Combine(runs.Root, "hmm"), Path.Combine(tmp, "b"));
            var (code, error) = CliRunner.Run(CompareCommand.Create(), Path.Combine(tmp, "a"), Path.Combine(tmp, "b"), "--out", Path.Combine(tmp, "out"), "--episodes", "50");
            Assert.True(code == 0, error);
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(tmp, "out", "similarity.json")));
            var d = doc.RootElement.GetProperty("distances").EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetDouble()).ToArray()).ToArray();
            Assert.Equal(2, d.Length);
            Assert.Equal((0.0, 0.0), (d[0][0], d[1][1]));
            Assert.Equal(d[0][1], d[1][0]);
            Assert.True(d[0][1] >= 0);
            var networks = doc.RootElement.GetProperty("networks").EnumerateArray().Select(n => n.GetProperty("path").GetString()!).ToArray();
            Assert.Equal([Path.Combine(tmp, "a"), Path.Combine(tmp, "b")], networks);
            Assert.True(File.Exists(Path.Combine(tmp, "out", "similarity.png")));
        }
        finally { if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true); }
    }
}
