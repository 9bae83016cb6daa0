using System.CommandLine;
using System.Globalization;
using System.Text;
using HmmRnn.Host.Experiments;
using HmmRnn.Host.Output;
using HmmRnn.Host.Training;

namespace HmmRnn.Host.Cli;

/// <summary><c>run</c>, <c>report</c> and <c>sweep</c>: the front door, from one experiment file to a report.</summary>
internal static class ExperimentCommands
{
    public static Command Run()
    {
        var file = new Argument<string>("experiment") { Description = "An experiment file (JSON; see experiments/schema.json), or the name of a shipped one ('hmmrnn experiments' lists them: hmm-quick, ibl-quick, …)." };
        var output = new Option<string?>("--out") { Description = "Output folder (default runs/<name>). A rerun skips finished stages and resumes training." };
        var cmd = new Command("run",
            "Run an experiment file: train → evaluate → analyse each point (seeds × sweep grid), then write report.html and report.md. " +
            "Resumable: rerun the same command after an interruption.")
        {
            file, output,
        };
        cmd.SetAction(async (r, token) =>
        {
            if (!Load(r.GetValue(file)!, out var experiment, out var root, r.GetValue(output))) return ExitCode.UsageError;
            var code = await Pipeline.Run(experiment!, root!, experiment!.Points, token);
            if (code != 0) return code;
            return Finish(root!, SweepTable.Read(root!));
        });
        return cmd;
    }

    /// <summary><c>experiments</c> (list the shipped experiment files) and <c>experiments show NAME</c> (print one).</summary>
    public static Command List()
    {
        var cmd = new Command("experiments",
            "List the experiment files shipped with the tool; 'run NAME' runs one from any folder, 'experiments show NAME' prints it to copy and edit.");
        cmd.SetAction(_ =>
        {
            foreach (var name in ShippedExperiments.Names) Console.Out.WriteLine($"{name,-16} {ShippedExperiments.Describe(name)}");
            Console.Error.WriteLine("run one: hmmrnn run NAME [--out DIR]; a copy to edit: hmmrnn experiments show NAME > my.json (schema: hmmrnn experiments show schema)");
            return 0;
        });
        var name = new Argument<string>("name") { Description = "A shipped experiment (or 'schema', the JSON schema of experiment files)." };
        var show = new Command("show", "Print a shipped experiment file (or the schema) to standard output.") { name };
        show.SetAction(r =>
        {
            var n = r.GetValue(name)!;
            if (ShippedExperiments.Text(n) is not { } text) return Cli.Fail($"experiments show: no shipped experiment '{n}' (shipped: {string.Join(", ", ShippedExperiments.Names)}, schema)");
            Console.Out.Write(text);
            return 0;
        });
        cmd.Subcommands.Add(show);
        return cmd;
    }

    public static Command ReportCommand()
    {
        var folder = new Argument<string>("run") { Description = "The output folder of 'run' or 'sweep', or a single run folder of 'train' / 'ibl train'." };
        var cmd = new Command("report", "Write report.html (self-contained: figures embedded) and its Markdown twin report.md for a run or an experiment's output.")
        {
            folder,
        };
        cmd.SetAction(r =>
        {
            var path = r.GetValue(folder)!;
            if (!Directory.Exists(path)) return Cli.Fail($"run: {path} is not a folder");
            try
            {
                var (html, _) = Report.Write(RunFolder.Create(path));
                Console.Error.WriteLine($"wrote {html} and {Report.MarkdownFile}");
                return 0;
            }
            catch (Exception e) when (e is InvalidDataException or FileNotFoundException or IOException) { return Cli.Fail(e.Message); }
        });
        return cmd;
    }

    public static Command SweepCommand()
    {
        // Hidden from the usage lines: shown, the parent's argument is printed before every subcommand's own
        // ('hmmrnn sweep <experiment> slurm <experiment>'); the description says how to give it.
        var file = new Argument<string>("experiment") { Description = "An experiment file with a \"sweep\" grid.", Hidden = true };
        var output = new Option<string?>("--out") { Description = "Output folder shared by every shard (default runs/<name>)." };
        var shard = new Option<string?>("--shard") { Description = "Run only shard i/n of the points (i, i+n, …; from 0). Inside a Slurm array job the shard comes from SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT." };
        var cmd = new Command("sweep",
            "hmmrnn sweep EXPERIMENT [--shard i/n] [--out DIR]: expand an experiment's grid (sweep × seeds; EXPERIMENT an experiment file with a \"sweep\" grid, or a shipped one's name) and run this process's share of the points; 'sweep collect' merges the shards' results into one table and plot, 'sweep slurm' writes an sbatch array script.")
        {
            file, output, shard,
        };
        cmd.SetAction(async (r, token) =>
        {
            Shard part;
            try { part = r.GetValue(shard) is { } s ? Shard.Parse(s) : Shard.FromSlurm(Environment.GetEnvironmentVariable) ?? Shard.All; }
            catch (ArgumentException e) { return Cli.Fail(e.Message); }
            if (!Load(r.GetValue(file)!, out var experiment, out var root, r.GetValue(output), part)) return ExitCode.UsageError;
            var points = part.Select(experiment!.Points);
            Console.Error.WriteLine($"sweep {experiment.Name}: shard {part.Index}/{part.Count}, {points.Count} of {experiment.Points.Count} point(s)");
            return await Pipeline.Run(experiment, root!, points, token);
        });
        cmd.Subcommands.Add(Collect());
        cmd.Subcommands.Add(Slurm());
        return cmd;
    }

    private static Command Collect()
    {
        var folder = new Argument<string>("dir") { Description = "The sweep's output folder (shared by its shards)." };
        var cmd = new Command("collect", "Merge the finished points of a sweep into sweep.csv, sweep.md, sweep.png, and write the report.") { folder };
        cmd.SetAction(r =>
        {
            var path = r.GetValue(folder)!;
            if (!Directory.Exists(path)) return Cli.Fail($"dir: {path} is not a folder");
            try { return Finish(RunFolder.Create(path), SweepTable.Collect(RunFolder.Create(path))); }
            catch (Exception e) when (e is InvalidDataException or IOException) { return Cli.Fail(e.Message); }
        });
        return cmd;
    }

    private static Command Slurm()
    {
        var file = new Argument<string>("experiment") { Description = "An experiment file with a \"sweep\" grid." };
        var output = new Option<string?>("--out") { Description = "Output folder shared by every array task (default runs/<name>)." };
        var tasks = new Option<int?>("--tasks") { Description = "Array tasks (default: one per point)." };
        var cpus = new Option<int>("--cpus") { Description = "CPUs per array task.", DefaultValueFactory = _ => 2 };
        var time = new Option<string>("--time") { Description = "Time limit per array task (sbatch --time).", DefaultValueFactory = _ => "02:00:00" };
        var script = new Option<string?>("--script") { Description = "Where to write the script (default <out>/sweep.sbatch)." };
        var partition = new Option<string?>("--partition") { Description = "sbatch --partition (default: the cluster's)." };
        var account = new Option<string?>("--account") { Description = "sbatch --account (default: the user's)." };
        var memory = new Option<string?>("--mem") { Description = "Memory per array task, sbatch --mem: a number with an optional unit K, M, G or T (e.g. 8G; default: the cluster's)." };
        var gpus = new Option<int>("--gpus") { Description = "GPUs per array task (sbatch --gpus-per-task; 0: none). With GPUs, run the experiment with \"device\": \"cuda\" and a CUDA build.", DefaultValueFactory = _ => 0 };
        var setup = new Option<string[]>("--setup") { Description = "A shell line each array task runs before hmmrnn (repeatable, in order), e.g. --setup 'module load dotnet/10'." };
        var command = new Option<string>("--hmmrnn") { Description = "How a task runs hmmrnn (default: this installation, 'dotnet <path>/hmmrnn.dll').", DefaultValueFactory = _ => $"dotnet {Path.Combine(AppContext.BaseDirectory, "hmmrnn.dll")}" };
        var cmd = new Command("slurm", "Write an sbatch array script for the sweep: each array task runs 'sweep' on its shard; then 'sweep collect'.")
        {
            file, output, tasks, cpus, time, partition, account, memory, gpus, setup, script, command,
        };
        cmd.SetAction(r =>
        {
            Experiment experiment;
            try { experiment = ShippedExperiments.Load(r.GetValue(file)!); }
            catch (ExperimentException e) { return Cli.Fail(e.Message); }
            var n = r.GetValue(tasks) ?? experiment.Points.Count;
            if (n < 1 || n > experiment.Points.Count) return Cli.Refuse(tasks, n, $"must be between 1 and the sweep's {experiment.Points.Count} points");
            if (r.GetValue(cpus) < 1) return Cli.Refuse(cpus, r.GetValue(cpus), "must be ≥ 1");
            if (!SlurmTime.IsMatch(r.GetValue(time)!))
                return Cli.Refuse(time, $"'{r.GetValue(time)}'", "must be an sbatch time: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS");
            foreach (var (option, value) in new[] { (partition, r.GetValue(partition)), (account, r.GetValue(account)) })
                if (value is not null && !SlurmName.IsMatch(value))
                    return Cli.Refuse(option, $"'{value}'", "must be one Slurm name (letters, digits, _ . - and , only)");
            if (r.GetValue(memory) is { } mem && !SlurmMemory.IsMatch(mem))
                return Cli.Refuse(memory, $"'{mem}'", "must be a whole number with an optional unit K, M, G or T (e.g. 8G)");
            if (r.GetValue(gpus) is < 0 or > MaxGpus) return Cli.Refuse(gpus, r.GetValue(gpus), $"must be in [0, {MaxGpus}]");
            if ((r.GetValue(setup) ?? []).FirstOrDefault(line => string.IsNullOrWhiteSpace(line) || line.Contains('\n', StringComparison.Ordinal)) is { } badLine)
                return Cli.Refuse(setup, $"'{badLine}'", "each must be one non-empty shell line");
            if (string.IsNullOrWhiteSpace(r.GetValue(command)) || r.GetValue(command)!.Contains('\n', StringComparison.Ordinal))
                return Cli.Refuse(command, $"'{r.GetValue(command)}'", "must be a command line (one line) that runs hmmrnn");
            if (r.GetValue(script) is { } given && (string.IsNullOrWhiteSpace(given) || Directory.Exists(given)))
                return Cli.Refuse(script, $"'{given}'", "must name the script's file");
            // The script's folder is checked before the output folder is created: a refusal leaves nothing behind.
            RunFolder? scriptFolder = null;
            if (r.GetValue(script) is { } scriptPath)
            {
                try { scriptFolder = RunFolder.Create(Path.GetDirectoryName(Path.GetFullPath(scriptPath))!); }
                catch (IOException e) { return Cli.Fail($"--script: {e.Message}"); }
            }
            RunFolder root;
            try { root = RunFolder.Create(r.GetValue(output) ?? Path.Combine("runs", experiment.Name)); }
            catch (IOException e) { return Cli.Fail($"--out: {e.Message}"); }
            var target = Path.GetFullPath(r.GetValue(script) ?? root.PathOf("sweep.sbatch"));
            var resources = new SlurmResources(n, r.GetValue(cpus), r.GetValue(time)!)
            {
                Partition = r.GetValue(partition), Account = r.GetValue(account), Memory = r.GetValue(memory), Gpus = r.GetValue(gpus), Setup = r.GetValue(setup) ?? [],
            };
            var text = SlurmScript(experiment.Name, Path.GetFullPath(r.GetValue(file)!), root.Path, resources, r.GetValue(command)!);
            (scriptFolder ?? root).WriteText(Path.GetFileName(target), text);
            Console.Out.WriteLine(target);
            Console.Error.WriteLine($"submit with: sbatch {target}   then: hmmrnn sweep collect {root.Path}");
            return 0;
        });
        return cmd;
    }

    /// <summary>sbatch's --time formats: minutes, minutes:seconds, hours:minutes:seconds, days-hours, days-hours:minutes, days-hours:minutes:seconds, or UNLIMITED.</summary>
    /// <summary>The most GPUs an array task may ask for (a sanity bound: no node has more).</summary>
    public const int MaxGpus = 16;

    private static readonly System.Text.RegularExpressions.Regex SlurmName = new(@"^[A-Za-z0-9_.,-]+$");
    private static readonly System.Text.RegularExpressions.Regex SlurmMemory = new(@"^[0-9]+[KMGTkmgt]?$");

    private static readonly System.Text.RegularExpressions.Regex SlurmTime =
        new(@"^(\d+(:\d{1,2}){0,2}|\d+-\d{1,2}(:\d{1,2}){0,2}|UNLIMITED|INFINITE)$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>An sbatch array script: task k runs shard k of n (the shard comes from Slurm's environment).</summary>
    internal static string SlurmScript(string name, string experiment, string output, SlurmResources resources, string hmmrnn)
    {
        static string Q(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
        var sb = new StringBuilder();
        sb.Append("#!/bin/bash\n");
        sb.Append(CultureInfo.InvariantCulture, $"#SBATCH --job-name=hmmrnn-{name}\n");
        sb.Append(CultureInfo.InvariantCulture, $"#SBATCH --array=0-{resources.Tasks - 1}\n");
        sb.Append(CultureInfo.InvariantCulture, $"#SBATCH --cpus-per-task={resources.Cpus}\n");
        sb.Append(CultureInfo.InvariantCulture, $"#SBATCH --time={resources.Time}\n");
        if (resources.Partition is { } partition) sb.Append(CultureInfo.InvariantCulture, $"#SBATCH --partition={partition}\n");
        if (resources.Account is { } account) sb.Append(CultureInfo.InvariantCulture, $"#SBATCH --account={account}\n");
        if (resources.Memory is { } memory) sb.Append(CultureInfo.InvariantCulture, $"#SBATCH --mem={memory}\n");
        if (resources.Gpus > 0) sb.Append(CultureInfo.InvariantCulture, $"#SBATCH --gpus-per-task={resources.Gpus}\n");
        sb.Append(CultureInfo.InvariantCulture, $"#SBATCH --output={output}/slurm-%A_%a.out\n");
        sb.Append("# Written by 'hmmrnn sweep slurm'. Each array task runs its shard of the points (SLURM_ARRAY_TASK_ID of\n");
        sb.Append("# SLURM_ARRAY_TASK_COUNT); all write into one output folder. When every task has finished:\n");
        sb.Append(CultureInfo.InvariantCulture, $"#   {hmmrnn} sweep collect {Q(output)}\n");
        sb.Append("set -euo pipefail\n");
        foreach (var line in resources.Setup) sb.Append(line).Append('\n');
        sb.Append(CultureInfo.InvariantCulture, $"exec {hmmrnn} sweep {Q(experiment)} --out {Q(output)}\n");
        return sb.ToString();
    }

    /// <summary>
    /// Loads an experiment to run here and its output folder, or says why not in one line (returns false) before anything is
    /// written: a bad file, a device this machine lacks, an output folder that holds a single run of 'train', or a point
    /// another process is running.
    /// </summary>
    private static bool Load(string file, out Experiment? experiment, out RunFolder? root, string? output, Shard? part = null)
    {
        (experiment, root) = (null, null);
        try { experiment = ShippedExperiments.Load(file); }
        catch (ExperimentException e) { Cli.Fail(e.Message); return false; }
        // Here, not in the loader: 'sweep slurm' writes the script of a GPU experiment on a login node without one.
        if (experiment.Points.Select(p => Devices.Problem(p.Config.Device)).FirstOrDefault(p => p is not null) is { } device)
        {
            Cli.Fail(new ExperimentException("device", device.Rule, device.Value, file).Message);
            return false;
        }
        var path = output ?? Path.Combine("runs", experiment.Name);
        if (File.Exists(Path.Combine(path, RunConfig.FileName)))
        {
            Cli.Fail($"--out: {path} holds a single run (its {RunConfig.FileName}); an experiment's output is a folder of its own");
            return false;
        }
        foreach (var point in (part ?? Shard.All).Select(experiment.Points))
            if (RunLock.InUse(Path.Combine(path, Pipeline.PointsFolder, point.Id)) is { } held)
            {
                Cli.Fail($"point {point.Id}: {held.Message}");
                return false;
            }
        try { root = RunFolder.Create(path); }
        catch (IOException e) { Cli.Fail($"--out: {e.Message}"); return false; }
        return true;
    }

    private static int Finish(RunFolder root, IReadOnlyList<PointSummary> rows)
    {
        if (rows.Count > 0) Console.Out.Write(SweepTable.Markdown(rows));
        var (html, _) = Report.Write(root);
        Console.Error.WriteLine($"report: {html}");
        return 0;
    }
}

/// <summary>What each array task of a sweep asks Slurm for, and the shell lines it runs first.</summary>
/// <param name="Tasks">Array tasks.</param>
/// <param name="Cpus">CPUs per task.</param>
/// <param name="Time">The time limit, in sbatch's format.</param>
internal sealed record SlurmResources(int Tasks, int Cpus, string Time)
{
    /// <summary>sbatch --partition; null: the cluster's default.</summary>
    public string? Partition { get; init; }
    /// <summary>sbatch --account; null: the user's default.</summary>
    public string? Account { get; init; }
    /// <summary>sbatch --mem (e.g. 8G); null: the cluster's default.</summary>
    public string? Memory { get; init; }
    /// <summary>GPUs per task (sbatch --gpus-per-task); 0: none.</summary>
    public int Gpus { get; init; }
    /// <summary>Shell lines run before hmmrnn (module loads, environments), in order.</summary>
    public IReadOnlyList<string> Setup { get; init; } = [];
}

