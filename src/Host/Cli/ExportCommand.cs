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
            var path = r.GetValue(run)!;
            if (!Directory.Exists(path)) return Cli.Fail($"run: {path} is not a folder");
            var folder = RunFolder.Create(path);
            try
            {
                var (arrays, file) = Arrays(folder, r.GetValue(checkpoint)!);
                var target = r.GetValue(output) ?? folder.PathOf("weights.npz");
                var dir = RunFolder.Create(Path.GetDirectoryName(Path.GetFullPath(target))!);
                dir.WriteAtomic(Path.GetFileName(target), s => Npz.Write(s, arrays));
                Console.Error.WriteLine($"wrote {Path.GetFullPath(target)} ({string.Join(", ", arrays.Select(a => $"{a.Name} [{string.Join(", ", a.Shape)}]"))}) from {file}");
                return 0;
            }
            catch (Exception e) when (e is InvalidDataException or FileNotFoundException or ArgumentException or IOException)
            {
                return Cli.Fail(e.Message.Split(" (Parameter")[0]);
            }
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
