namespace HmmRnn.Properties;

/// <summary>
/// The package READMEs' C# examples compile: every line of them stands in samples/CSharpConsole/PackageReadmes.cs,
/// which CI builds (the sample is in HmmRnn.sln) and runs (.ci/run).
/// </summary>
public class PackageReadmeTests
{
    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "HmmRnn.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no HmmRnn.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>The lines of every ```csharp block, trimmed, blank ones left out.</summary>
    public static IReadOnlyList<string> CSharpLines(string markdown)
    {
        var lines = new List<string>();
        bool inside = false;
        foreach (var raw in markdown.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith("```", StringComparison.Ordinal)) { inside = !inside && line.Trim() == "```csharp"; continue; }
            if (inside && line.Trim().Length > 0) lines.Add(line.Trim());
        }
        return lines;
    }

    [Theory]
    [InlineData("src/Core/README.md")]
    [InlineData("src/Analysis/README.md")]
    public void Every_line_of_a_package_README_example_is_in_the_compiled_sample(string readme)
    {
        // Catches a README example edited (or an API renamed) without the compiled copy following:
        // the example would no longer be known to compile.
        var root = RepositoryRoot();
        var example = CSharpLines(File.ReadAllText(Path.Combine(root, readme)));
        Assert.True(example.Count >= 5, $"{readme}: no C# example found");
        var compiled = File.ReadAllLines(Path.Combine(root, "samples", "CSharpConsole", "PackageReadmes.cs"))
            .Select(l => l.Trim()).ToHashSet(StringComparer.Ordinal);
        var missing = example.Where(l => !compiled.Contains(l)).ToArray();
        Assert.True(missing.Length == 0, $"{readme}: lines not in samples/CSharpConsole/PackageReadmes.cs:\n{string.Join("\n", missing)}");
    }

    [Fact]
    public void The_block_reader_takes_only_csharp_blocks()
    {
        // Catches a reader that sees no block (the test above would then check nothing) or reads shell blocks too.
        var lines = CSharpLines("text\n```sh\ndotnet run\n```\n```csharp\nusing X;\n\nvar a = 1;\n```\nafter\n");
        Assert.Equal(new[] { "using X;", "var a = 1;" }, lines);
    }
}
