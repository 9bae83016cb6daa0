using System.CommandLine;
using System.Diagnostics;
using HmmRnn.Analysis.Dynamics;
using HmmRnn.Host.Tasks.Hmm;

namespace HmmRnn.Host.Cli;

/// <summary><c>compare</c>: how alike the dynamics of HMM-emulating networks are (Dynamical Similarity Analysis).</summary>
internal static class CompareCommand
{
    public static Command Create()
    {
        var runs = new Argument<string[]>("runs") { Description = "Two or more HMM run folders, or experiment outputs (all their trained points).", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out") { Description = "Folder for similarity.json, similarity.md and similarity.png.", DefaultValueFactory = _ => "similarity" };
        var defaults = new DsaOptions();
        var components = new Option<int>("--components") { Description = "Principal components of the hidden states kept before the delay embedding (at most the smallest |h|).", DefaultValueFactory = _ => defaults.Components };
        var delays = new Option<int>("--delays") { Description = "Delays of the embedding (1: none).", DefaultValueFactory = _ => defaults.Delays };
        var rank = new Option<int>("--rank") { Description = "Rank of each network's DMD operator (≤ components × delays).", DefaultValueFactory = _ => defaults.Rank };
        var starts = new Option<int>("--starts") { Description = "Starting rotations of each pair's Procrustes search.", DefaultValueFactory = _ => defaults.Starts };
        var episodes = new Option<int>("--episodes") { Description = "Noise-driven runs per network, each of its training length from h = 0 (1,000: a linear3 network refitted on other noise lies 0.07–0.18 from itself; 200: 0.46).", DefaultValueFactory = _ => 1_000 };
        var seed = new Option<long>("--seed") { Description = "Seed of the noise and of the rotation search.", DefaultValueFactory = _ => 1 };
        var cmd = new Command("compare",
            "How alike the dynamics of trained HMM networks are (Dynamical Similarity Analysis, Ostrow et al. 2023): each network's noise-driven " +
            "hidden states are reduced by PCA, delay-embedded, and fitted with a linear (DMD) operator; two networks' distance is the smallest " +
            "‖A − C B Cᵀ‖_F over rotations C, 0 when one network's dynamics are a rotation of the other's. Writes similarity.json (a symmetric " +
            "matrix 'distances' with a zero diagonal, each network's operator and eigenvalues, the mean distance within and across HMMs), " +
            "similarity.md and similarity.png.")
        {
            runs, output, components, delays, rank, starts, episodes, seed,
        };
        cmd.SetAction(r =>
        {
            var options = new DsaOptions(r.GetValue(components), r.GetValue(delays), r.GetValue(rank), Starts: r.GetValue(starts));
            if (options.Problem() is { } problem) return Cli.Refuse(problem, cmd.Options);
            if (r.GetValue(episodes) is < 1 or > 100_000) return Cli.Refuse(episodes, r.GetValue(episodes), "must be in 1 … 100,000");
            if (string.IsNullOrWhiteSpace(r.GetValue(output))) return Cli.Refuse(output, $"'{r.GetValue(output)}'", "names no folder");
            IReadOnlyList<string> folders;
            try { folders = SimilarityOutput.Expand(r.GetValue(runs)!); }
            catch (DirectoryNotFoundException e) { return Cli.Fail($"runs: {e.Message}"); }
            if (folders.Count < 2) return Cli.Fail($"runs: {folders.Count} network found; compare needs two or more");
            var target = Path.GetFullPath(r.GetValue(output)!);
            if (File.Exists(target)) return Cli.Refuse(output, target, "is a file; name a folder");
            var clock = Stopwatch.StartNew();
            try
            {
                return Cli.Reading(() =>
                {
                    var report = SimilarityOutput.Run(folders, target, options, r.GetValue(episodes), r.GetValue(seed),
                        s => Console.Error.WriteLine($"  {clock.Elapsed.TotalSeconds,6:F1} s  {s}"));
                    Console.Out.Write(File.ReadAllText(Path.Combine(target, SimilarityOutput.MarkdownFile)));
                    Console.Error.WriteLine($"compared {report.Networks.Count} networks in {clock.Elapsed.TotalSeconds:F1} s; wrote {target}/{SimilarityOutput.JsonFile}, {SimilarityOutput.MarkdownFile} and {SimilarityOutput.Figure}");
                });
            }
            catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException) { return Cli.Fail($"--out: {e.Message}"); }
        });
        return cmd;
    }
}
