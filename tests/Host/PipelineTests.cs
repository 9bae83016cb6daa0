using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using HmmRnn.Host.Cli;
using HmmRnn.Host.Experiments;

namespace HmmRnn.Host.Tests;

/// <summary>Tiny experiments that train in about a second a point, for the pipeline's tests.</summary>
public static class TinyExperiments
{
    public const string Training = """ "model": { "hidden": 6, "input": 2 }, "training": { "epochs": 3, "batch": 16, "trainSequences": 48, "validationSequences": 16, "testSequences": 300 } """;
    public const string Analysis = """ "evaluation": { "sequences": 300 }, "analysis": { "steps": 600, "residencyStates": 30, "decayStarts": 10, "decaySteps": 100, "patterns": 20 } """;

    public static string Write(string folder, string name, string body)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, name + ".json");
        File.WriteAllText(path, $$"""{ "name": "{{name}}", "task": "hmm", "hmm": "linear3", {{body}} }""");
        return path;
    }

    /// <summary>A point's headline numbers without wall-clock times (which differ from run to run).</summary>
    public static string Metrics(string pointFolder)
    {
        var s = JsonSerializer.Deserialize<PointSummary>(File.ReadAllText(Path.Combine(pointFolder, Pipeline.SummaryFile)), Output.RunFolder.Json)!;
        return string.Join(";", s.Metrics.Where(m => m.Key != "trainSeconds").Select(m => $"{m.Key}={m.Value:R}"));
    }
}

[Collection("torch")]
public sealed class PipelineTests : TempFolderTest
{
    private (int Code, string Error) Cli(params string[] args) => CliRunner.Run(Commands.Root(), args);

    [Fact]
    public void A_rerun_skips_what_is_unchanged_and_redoes_only_what_depends_on_a_change()
    {
        var file = TinyExperiments.Write(Root, "stages", $"{TinyExperiments.Training}, {TinyExperiments.Analysis}");
        var output = Path.Combine(Root, "out");
        var first = Cli("run", file, "--out", output);
        Assert.True(first.Code == 0, first.Error);
        var point = Path.Combine(output, "points", "s0");
        var metrics = TinyExperiments.Metrics(point);

        var again = Cli("run", file, "--out", output);
        Assert.Equal(0, again.Code);
        foreach (var stage in new[] { "train", "evaluate", "reverse-engineer" })
            Assert.Contains($"{stage}: up to date", again.Error);
        Assert.Equal(metrics, TinyExperiments.Metrics(point));

        // Another analysis option: training and evaluation stand, the reverse engineering is redone.
        File.WriteAllText(file, File.ReadAllText(file).Replace("\"steps\": 600", "\"steps\": 700", StringComparison.Ordinal));
        var analysis = Cli("run", file, "--out", output);
        Assert.Contains("train: up to date", analysis.Error);
        Assert.Contains("evaluate: up to date", analysis.Error);
        Assert.DoesNotContain("reverse-engineer: up to date", analysis.Error);

        // More epochs: the training resumes from its last checkpoint (same run, longer), and everything after it is redone.
        File.WriteAllText(file, File.ReadAllText(file).Replace("\"epochs\": 3", "\"epochs\": 4", StringComparison.Ordinal));
        var longer = Cli("run", file, "--out", output);
        Assert.Equal(0, longer.Code);
        Assert.Contains("train: resuming from the last checkpoint", longer.Error);
        Assert.Contains("resuming after epoch 3", longer.Error);
        // The evaluation is redone only if the best checkpoint changed (a fourth epoch need not beat the first three).

        // Another model (another configuration hash): the folder's run is not resumed but replaced. Red if the pipeline
        // no longer tells this refusal (a ResumeRefusedException) from other failures.
        File.WriteAllText(file, File.ReadAllText(file).Replace("\"hidden\": 6", "\"hidden\": 7", StringComparison.Ordinal));
        var other = Cli("run", file, "--out", output);
        Assert.True(other.Code == 0, other.Error);
        Assert.Contains("train: the folder holds a run of another configuration; starting afresh", other.Error);
    }

    // Bug caught: "tensorboard": true accepted but ignored (run and sweep never wrote TensorBoard), or any other value accepted.
    [Fact]
    public void An_experiment_asks_for_TensorBoard_files_and_each_point_writes_one()
    {
        var file = TinyExperiments.Write(Root, "tb", $"{TinyExperiments.Training}, \"evaluation\": {{ \"sequences\": 300 }}, \"analyses\": [\"evaluate\"], \"tensorboard\": true");
        var output = Path.Combine(Root, "out");
        Assert.Equal(0, Cli("run", file, "--out", output).Code);
        var events = Directory.GetFiles(Path.Combine(output, Pipeline.PointsFolder), "events.out.tfevents.*", SearchOption.AllDirectories);
        Assert.Single(events);
        Assert.True(new FileInfo(events[0]).Length > 100);
        var bad = TinyExperiments.Write(Root, "tb-bad", $"{TinyExperiments.Training}, \"tensorboard\": \"yes\"");
        var refused = Cli("run", bad, "--out", Path.Combine(Root, "bad"));
        Assert.Equal(2, refused.Code);
        Assert.Contains("tensorboard: must be true or false", refused.Error);
    }

    [Fact]
    public void The_report_is_well_formed_self_contained_HTML_with_every_figure_embedded()
    {
        var file = TinyExperiments.Write(Root, "report", $"{TinyExperiments.Training}, {TinyExperiments.Analysis}");
        var output = Path.Combine(Root, "out");
        Assert.Equal(0, Cli("run", file, "--out", output).Code);
        var html = File.ReadAllText(Path.Combine(output, Report.HtmlFile));
        var markdown = File.ReadAllText(Path.Combine(output, Report.MarkdownFile));

        var doc = XDocument.Parse(html); // well-formed: every tag closed, every attribute quoted, entities escaped
        var images = doc.Descendants("img").ToList();
        var linked = Regex.Matches(markdown, @"^!\[[^\]]*\]\(([^)]+)\)$", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
        // loss, transition, dwell, lag (evaluate) and pca, residency, resonance (reverse-engineer) at least.
        Assert.True(linked.Count >= 7, $"only {linked.Count} figures in the report");
        Assert.Equal(linked.Count, images.Count); // every figure of the Markdown twin is in the page
        foreach (var img in images)
        {
            var src = (string)img.Attribute("src")!;
            Assert.StartsWith("data:image/png;base64,", src); // embedded: the page needs no other file and no network
            var png = Convert.FromBase64String(src["data:image/png;base64,".Length..]);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        }
        foreach (var path in linked) Assert.True(File.Exists(Path.Combine(output, path)), path);
        // Figures beside their text: the PCA figure inside its section (after the noisy run's heading, before the next
        // heading), shown once, and no marker left in the page. Bugs caught: markers left in place (every figure at the
        // stage's end), a figure shown twice (at its marker and again at the end).
        Assert.Equal(linked.Count, linked.Distinct().Count());
        var pca = linked.Single(l => l.EndsWith("pca.png", StringComparison.Ordinal));
        var lines = markdown.Split('\n');
        var at = Array.FindIndex(lines, l => l.EndsWith($"({pca})", StringComparison.Ordinal));
        var section = Array.FindLastIndex(lines, at, l => l.StartsWith('#'));
        Assert.Contains("Noisy run", lines[section], StringComparison.Ordinal);
        Assert.DoesNotContain("<!-- figure:", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
        // The RNN's statistics beside its HMM's, the analysis, and the resolved configuration.
        Assert.Contains("transition-matrix squared error", html);
        Assert.Contains("Opened up", html);
        Assert.Contains("<td>hidden</td><td>6</td>", html);
        Assert.Contains("transition.png", markdown);
        // Bug caught: captions that are file names ("flow-3"), and no way to navigate a long page. Each figure's caption is the
        // title drawn in it (carried in the PNG), and a table of contents links every section.
        var captions = doc.Descendants("figcaption").Select(c => c.Value).ToList();
        Assert.All(captions, c => Assert.DoesNotMatch(@"^[a-z0-9-]+$", c));
        Assert.Contains(captions, c => c.Contains("transition", StringComparison.OrdinalIgnoreCase));
        var toc = doc.Descendants("nav").Single();
        var ids = doc.Descendants().Where(e => e.Name.LocalName is "h2" or "h3").Select(e => (string)e.Attribute("id")!).ToList();
        Assert.Equal(ids.Select(id => "#" + id), toc.Descendants("a").Select(a => (string)a.Attribute("href")!));
    }

    [Fact]
    public void Shards_in_any_order_reproduce_the_unsharded_sweep_table_byte_for_byte()
    {
        var file = TinyExperiments.Write(Root, "grid",
            $"{TinyExperiments.Training.Replace("\"hidden\": 6, ", "", StringComparison.Ordinal)}, \"evaluation\": {{ \"sequences\": 300 }}, \"analyses\": [\"evaluate\"], \"seeds\": [0, 1], \"sweep\": {{ \"model.hidden\": [4, 6] }}");
        var whole = Path.Combine(Root, "whole");
        var sharded = Path.Combine(Root, "sharded");
        Assert.Equal(0, Cli("sweep", file, "--out", whole).Code);
        foreach (var shard in new[] { "2/3", "0/3", "1/3" })
            Assert.Equal(0, Cli("sweep", file, "--out", sharded, "--shard", shard).Code);
        Assert.Equal(0, Cli("sweep", "collect", whole).Code);
        Assert.Equal(0, Cli("sweep", "collect", sharded).Code);
        var table = File.ReadAllText(Path.Combine(whole, SweepTable.CsvFile));
        Assert.Equal(5, table.Trim().Split('\n').Length); // header + 2 sizes × 2 seeds
        Assert.Equal(table, File.ReadAllText(Path.Combine(sharded, SweepTable.CsvFile)));
        Assert.True(File.Exists(Path.Combine(sharded, SweepTable.PlotFile)));
    }

    [Fact]
    public void Sweep_keys_read_as_words_in_figures()
    {
        // Bugs caught: the section prefix kept ("model.hidden"), camelCase shown as is ("learningRate"), an acronym split
        // letter by letter.
        Assert.Equal("hidden", SweepTable.Words("model.hidden"));
        Assert.Equal("learning rate", SweepTable.Words("training.learningRate"));
        Assert.Equal("lr half life", SweepTable.Words("training.lrHalfLife"));
        Assert.Equal("seed", SweepTable.Words("seed"));
    }

    [Fact]
    public void Slurm_array_environment_picks_the_shard()
    {
        string? Env(string name) => name switch
        {
            "SLURM_ARRAY_TASK_ID" => "5", "SLURM_ARRAY_TASK_COUNT" => "4", "SLURM_ARRAY_TASK_MIN" => "3", _ => null,
        };
        Assert.Equal(new Shard(2, 4), Shard.FromSlurm(Env));
        Assert.Null(Shard.FromSlurm(_ => null));
        var points = Enumerable.Range(0, 10).Select(i => new ExperimentPoint(i, $"p{i}", new Dictionary<string, string>(), null!)).ToList();
        Assert.Equal(new[] { 2, 6 }, new Shard(2, 4).Select(points).Select(p => p.Index));
        // Every point in exactly one shard.
        Assert.Equal(Enumerable.Range(0, 10), Enumerable.Range(0, 3).SelectMany(i => new Shard(i, 3).Select(points)).Select(p => p.Index).Order());
        var script = ExperimentCommands.SlurmScript("g", "/x/g.json", "/runs/g", new SlurmResources(4, 2, "01:00:00"), "dotnet /opt/hmmrnn.dll");
        Assert.Contains("#SBATCH --array=0-3", script);
        Assert.Contains("exec dotnet /opt/hmmrnn.dll sweep '/x/g.json' --out '/runs/g'", script);
        // Unasked resources are left to the cluster's defaults: no partition, account, memory or GPU line.
        Assert.DoesNotContain("--partition", script);
        Assert.DoesNotContain("--gpus", script);
        // Asked for, each is a #SBATCH line (before the first command: sbatch stops reading them there), and the set-up lines
        // run in order before hmmrnn. Bugs caught: a directive after 'set -e' (ignored by sbatch), set-up lines after exec.
        var full = ExperimentCommands.SlurmScript("g", "/x/g.json", "/runs/g", new SlurmResources(4, 2, "01:00:00")
        {
            Partition = "gpu", Account = "lab-7", Memory = "8G", Gpus = 1, Setup = ["module load dotnet/10", "export A=1"],
        }, "dotnet /opt/hmmrnn.dll").Split('\n');
        int Line(string text) => Array.FindIndex(full, l => l == text);
        var firstCommand = Line("set -euo pipefail");
        foreach (var directive in new[] { "#SBATCH --partition=gpu", "#SBATCH --account=lab-7", "#SBATCH --mem=8G", "#SBATCH --gpus-per-task=1" })
            Assert.InRange(Line(directive), 1, firstCommand - 1);
        Assert.True(firstCommand < Line("module load dotnet/10") && Line("module load dotnet/10") < Line("export A=1"));
        Assert.True(Line("export A=1") < Array.FindIndex(full, l => l.StartsWith("exec ", StringComparison.Ordinal)));
    }
}

/// <summary>Issue 11: a run killed at random points (SIGKILL, from outside) always resumes to the same final metrics.</summary>
public sealed class KillResumeTests : TempFolderTest
{
    private static readonly string Host = Path.Combine(AppContext.BaseDirectory, "hmmrnn.dll");

    private static Process Start(string file, string output)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { Host, "run", file, "--out", output }) info.ArgumentList.Add(a);
        var p = Process.Start(info)!;
        p.ErrorDataReceived += (_, _) => { };
        p.OutputDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        p.BeginOutputReadLine();
        return p;
    }

    [Fact]
    public void A_run_killed_at_random_points_resumes_to_the_same_final_metrics()
    {
        var file = TinyExperiments.Write(Root, "killed",
            TinyExperiments.Training.Replace("\"epochs\": 3", "\"epochs\": 8", StringComparison.Ordinal).Replace("\"trainSequences\": 48", "\"trainSequences\": 160", StringComparison.Ordinal) +
            $", {TinyExperiments.Analysis}");
        var reference = Path.Combine(Root, "reference");
        var clock = Stopwatch.StartNew();
        using (var p = Start(file, reference)) { p.WaitForExit(); Assert.Equal(0, p.ExitCode); }
        var duration = clock.Elapsed.TotalSeconds;
        var expected = TinyExperiments.Metrics(Path.Combine(reference, "points", "s0"));
        var evaluation = JsonDocument.Parse(File.ReadAllText(Path.Combine(reference, "points", "s0", "evaluation.json"))).RootElement.GetProperty("metrics").GetRawText();

        // Kills spread over the whole run (start-up, training, checkpoint writes, evaluation, analysis, report), at times from a fixed seed.
        // Each attempt gets on with the run by its delay less the start-up, so the delays are short against the whole (a
        // quarter of it at most, and at most 3 s: a reference run slowed by other work on the machine made long delays). A
        // run that still finished after fewer than three kills (a fast, quiet machine) is started again in a fresh folder
        // with delays a half, then a third as long: the test needs kills at random points, not one machine's timing.
        var random = new Random(20261125);
        var killed = "";
        int kills = 0;
        for (int round = 1; round <= 3 && kills < 3; round++)
        {
            killed = Path.Combine(Root, $"killed-{round}");
            kills = 0;
            for (int i = 0; i < 8; i++)
            {
                using var p = Start(file, killed);
                if (p.WaitForExit(TimeSpan.FromSeconds((0.5 + random.NextDouble() * Math.Min(3, duration * 0.25)) / round))) continue; // finished before its kill
                p.Kill(entireProcessTree: true);
                p.WaitForExit();
                kills++;
            }
        }
        using (var p = Start(file, killed)) { p.WaitForExit(); Assert.Equal(0, p.ExitCode); }
        Assert.True(kills >= 3, $"only {kills} of the runs were killed before finishing");
        Assert.Equal(expected, TinyExperiments.Metrics(Path.Combine(killed, "points", "s0")));
        Assert.Equal(evaluation, JsonDocument.Parse(File.ReadAllText(Path.Combine(killed, "points", "s0", "evaluation.json"))).RootElement.GetProperty("metrics").GetRawText());
        Assert.True(File.Exists(Path.Combine(killed, Report.HtmlFile)));
    }
}

/// <summary>A fact that needs a Slurm installation (slurm-wlm, munge): skipped, with the reason, elsewhere.</summary>
public sealed class SlurmFactAttribute : FactAttribute
{
    public SlurmFactAttribute()
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(["/usr/sbin", "/usr/bin"]);
        bool Has(string tool) => path.Any(d => File.Exists(Path.Combine(d, tool)));
        if (!new[] { "slurmctld", "slurmd", "munged", "sbatch" }.All(Has))
            Skip = "Slurm is not installed here (apt-get install slurm-wlm munge); scripts/slurm-local.sh needs slurmctld, slurmd, munged and sbatch";
    }
}

/// <summary>Issue 11: the sweep as a real Slurm job array on a one-node cluster brought up on localhost.</summary>
public sealed class SlurmTests : TempFolderTest
{
    [SlurmFact]
    public void A_sweep_run_as_a_Slurm_job_array_reproduces_the_unsharded_table()
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Repo.PathOf("scripts/slurm-local.sh"));
        info.ArgumentList.Add(""); // the script's own tiny four-point sweep
        info.ArgumentList.Add(Root);
        info.Environment["HMMRNN"] = $"dotnet {Path.Combine(AppContext.BaseDirectory, "hmmrnn.dll")}";
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(8)), "slurm-local.sh did not finish within 8 minutes");
        Assert.True(p.ExitCode == 0, $"exit {p.ExitCode}\n{stdout.Result}\n{stderr.Result}");
        Assert.Contains("the array's table equals the unsharded table (4 points)", stdout.Result);
        // Four array tasks ran, each on its own shard taken from Slurm's environment.
        var logs = Directory.GetFiles(Path.Combine(Root, "array"), "slurm-*.out");
        Assert.Equal(4, logs.Length);
        Assert.Equal(new[] { "0/4", "1/4", "2/4", "3/4" },
            logs.Select(l => Regex.Match(File.ReadAllText(l), @"shard (\d+/\d+)").Groups[1].Value).Order());
    }
}
