using System.CommandLine;
using System.Text;
using HmmRnn.Host.Output;
using HmmRnn.Host.Tasks.Hmm;
using HmmRnn.Host.Tasks.Ibl;
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
            "Write a trained network's weights and its config as a NumPy .npz. HMM runs (ReLU RNN, float32): W_hh [H, H], W_ih [H, D], " +
            "readout [O, H]. IBL runs (tanh RNN, float64): W_rec [H, H], W_in [H, 3], b [H] (= b_ih + b_hh), W_out [2, H], b_out [2]. " +
            "Both: config_json, the run's config.json as UTF-8 bytes (Python: bytes(np.load(f)['config_json']).decode()).")
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

    /// <summary>The arrays of a run's network at a checkpoint, and the checkpoint's file name.</summary>
    internal static (IReadOnlyList<NpyArray> Arrays, string Checkpoint) Arrays(RunFolder folder, string which)
    {
        var config = RunConfig.Read(folder);
        var text = Encoding.UTF8.GetBytes(File.ReadAllText(folder.PathOf(RunConfig.FileName)));
        var json = new NpyArray("config_json", [text.Length], Bytes: text);
        if (config is HmmTrainingConfig hmm)
        {
            var path = Trainer.CheckpointPath(folder, which);
            using var model = new HmmRnnModel(hmm.Hidden, hmm.Input, hmm.Entry.Hmm.Symbols);
            Checkpoint.Load(path, model, null);
            var w = model.Snapshot();
            return ([
                new NpyArray("W_hh", [w.Hidden, w.Hidden], w.RecurrentWeights.ToArray()),
                new NpyArray("W_ih", [w.Hidden, w.Input], w.InputWeights.ToArray()),
                new NpyArray("readout", [w.Outputs, w.Hidden], w.Readout.ToArray()),
                json,
            ], Path.GetFileName(path));
        }
        var (_, t, file, _) = IblAnalysisOutput.Load(folder, which);
        return ([
            new NpyArray("W_rec", [t.Hidden, t.Hidden], Doubles: t.Recurrent.ToArray()),
            new NpyArray("W_in", [t.Hidden, t.Inputs], Doubles: t.InputWeights.ToArray()),
            new NpyArray("b", [t.Hidden], Doubles: t.Bias.ToArray()),
            new NpyArray("W_out", [t.Outputs, t.Hidden], Doubles: t.Readout.ToArray()),
            new NpyArray("b_out", [t.Outputs], Doubles: t.ReadoutBias.ToArray()),
            json,
        ], file);
    }
}
