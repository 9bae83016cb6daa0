using HmmRnn.Host.Experiments;
using HmmRnn.Host.Output;
using HmmRnn.Host.Tasks.Hmm;
using HmmRnn.Host.Training;

namespace HmmRnn.Host.Tests;

/// <summary>The HMM experiment's claims section, on a hand-made experiment folder (no training).</summary>
public sealed class AtlasSectionTests
{
    /// <summary>
    /// Three points: linear3 at the common size (two seeds, one faithful) and linear3 at another size. The claims table has
    /// as many cells in every row as in its header (a size written with '|' split a cell: seen in the first atlas report),
    /// counts faithful and unfaithful networks apart, and links each network to its section. Bugs caught: the '|' label,
    /// faithful and unfaithful counts swapped, a network without the claim counted as scored.
    /// </summary>
    [Fact]
    public void The_claims_table_counts_faithful_networks_apart_and_keeps_its_columns()
    {
        var root = RunFolder.Create(Path.Combine(Path.GetTempPath(), "hmmrnn-atlas-" + Guid.NewGuid().ToString("N")));
        try
        {
            var quick = HmmTrainingConfig.Preset("quick", "linear3");
            var points = new (string Id, HmmTrainingConfig Config, Dictionary<string, double> Metrics)[]
            {
                ("a", quick with { Seed = 0 }, new() { ["faithful"] = 1, ["transitionError"] = 0.001, ["claimCollapse"] = 1, ["claimKickUnits"] = 0 }),
                ("b", quick with { Seed = 1 }, new() { ["faithful"] = 0, ["transitionError"] = 0.02, ["claimCollapse"] = 0, ["claimKickUnits"] = 0 }),
                ("c", quick with { Seed = 0, Hidden = 150, Input = 100 }, new() { ["faithful"] = 1, ["transitionError"] = 0.001, ["claimCollapse"] = 1 }),
            };
            foreach (var (id, config, _) in points) RunConfig.Write(RunFolder.Create(Path.Combine(root.Path, Pipeline.PointsFolder, id)), config);
            var summaries = points.Select(p => new PointSummary(p.Id, new Dictionary<string, string> { ["seed"] = "0" }, p.Metrics)).ToList();

            var text = HmmDescriptor.Instance.ExperimentSection(root, summaries, id => "#" + id)!;
            var table = text.Split('\n').SkipWhile(l => !l.StartsWith("| claim", StringComparison.Ordinal)).TakeWhile(l => l.StartsWith('|')).ToList();
            Assert.True(table.Count > 3, text);
            static int Cells(string row) => row.Replace("\\|", "", StringComparison.Ordinal).Count(c => c == '|');
            Assert.All(table, row => Assert.Equal(Cells(table[0]), Cells(row)));
            Assert.Contains("| claim | linear3 | linear3 (150 units, d = 100) | all |", table[0], StringComparison.Ordinal);
            var collapse = table.Single(r => r.Contains("collapses", StringComparison.Ordinal));
            Assert.Contains("| **1/1** (0/1) | **1/1** | **2/2** (0/1) |", collapse, StringComparison.Ordinal);
            var kick = table.Single(r => r.Contains("kick neurons", StringComparison.Ordinal) || r.Contains("kick units", StringComparison.Ordinal));
            Assert.Contains("| **0/1** (0/1) | – | **0/1** (0/1) |", kick, StringComparison.Ordinal); // c has no kick verdict: not scored
            Assert.Contains("[a](#a)", text, StringComparison.Ordinal);
        }
        finally { Directory.Delete(root.Path, recursive: true); }
    }
}
