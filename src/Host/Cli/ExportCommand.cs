using System.CommandLine;
using System.Text;
using HmmRnn.Host.Output;
using HmmRnn.Host.Tasks;
using HmmRnn.Host.Training;

namespace HmmRnn.Host.Cli;

/// <summary><c>export</c>: a trained network's weights and configuration as a NumPy .npz, for Python, Julia and MATLAB users.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var run = new Argument<string>("run") { Description = "A run folder written by 'train', 'ibl train' or 'ibl distill'." };
        var checkpoint = new Option<string>("--checkpoint") { Description = "best, last, or an epoch number kept by --checkpoint-every.", DefaultValueFactory = _ => "best" };
        var output = new Option<string?>("--out") { Description = "The .npz file (default <run>/weights.npz)." };
        var cmd = new Command("export",
            "Write a trained network's weights and its config as a NumPy .npz. " + string.Join(" ", TaskRegistry.All.Select(d => d.ExportLayout)) + " " +
            "Every run: config_json, the run's config.json as UTF-8 bytes (Python: bytes(np.load(f)['config_json']).decode()).")
        {
            run, checkpoint, output,
        };
        cmd.SetAction(r =>
        {
            if (Trainer.CheckpointProblem(r.GetValue(checkpoint)) is { } which) return Cli.Refuse(which, cmd.Options);
            var given = r.GetValue(output);
            if (given is not null && string.IsNullOrWhiteSpace(given)) return Cli.Refuse(output, $"'{given}'", "names no file");
            if (given is not null && Directory.Exists(given)) return Cli.Refuse(output, given, "is a folder; name the .npz file");
            if (Cli.OpenRun(r.GetValue(run)!) is not { } folder) return ExitCode.UsageError;
            var target = Path.GetFullPath(given ?? folder.PathOf("weights.npz"));
            (IReadOnlyList<NpyArray> Arrays, string File) read = ([], "");
            var code = Cli.Reading(() => read = Arrays(folder, r.GetValue(checkpoint)!));
            if (code != ExitCode.Success) return code;
            RunFolder dir; // created only once the network has been read
            try { dir = RunFolder.Create(Path.GetDirectoryName(target)!); }
            catch (IOException e) { return Cli.Fail($"--out: {e.Message}"); }
            dir.WriteAtomic(Path.GetFileName(target), s => Npz.Write(s, read.Arrays));
            Console.Error.WriteLine($"wrote {target} ({string.Join(", ", read.Arrays.Select(a => $"{a.Name} [{string.Join(", ", a.Shape)}]"))}) from {read.File}");
            return ExitCode.Success;
        });
        return cmd;
    }

    /// <summary>The arrays of a run's network at a checkpoint (its task's layout, and config_json), and the checkpoint's file name.</summary>
    internal static (IReadOnlyList<NpyArray> Arrays, string Checkpoint) Arrays(RunFolder folder, string which)
    {
        var config = RunConfig.Read(folder);
        var text = Encoding.UTF8.GetBytes(File.ReadAllText(folder.PathOf(RunConfig.FileName)));
        var (arrays, file) = TaskRegistry.Of(config).Export(folder, config, which);
        return ([.. arrays, new NpyArray("config_json", [text.Length], Bytes: text)], file);
    }
}
