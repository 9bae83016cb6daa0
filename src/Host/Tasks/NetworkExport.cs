using HmmRnn.Core.Rnn;
using HmmRnn.Host.Output;

namespace HmmRnn.Host.Tasks;

/// <summary>
/// The arrays of an exported network (<c>export</c>), one naming for every task: W_rec, W_in, W_out (and b, b_out for tanh
/// networks), then the labels that make the file describe itself: <c>model</c> (the update and output rule),
/// <c>W_in_columns</c> and <c>W_out_rows</c>.
/// </summary>
internal static class NetworkExport
{
    /// <summary>A tanh network's weights (float64) and its labels.</summary>
    public static IReadOnlyList<NpyArray> Tanh(TanhRnnWeights t, string model, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs) =>
    [
        new NpyArray("W_rec", [t.Hidden, t.Hidden], Doubles: t.Recurrent.ToArray()),
        new NpyArray("W_in", [t.Hidden, t.Inputs], Doubles: t.InputWeights.ToArray()),
        new NpyArray("b", [t.Hidden], Doubles: t.Bias.ToArray()),
        new NpyArray("W_out", [t.Outputs, t.Hidden], Doubles: t.Readout.ToArray()),
        new NpyArray("b_out", [t.Outputs], Doubles: t.ReadoutBias.ToArray()),
        .. Labels(model, t.Inputs, inputs, t.Outputs, outputs),
    ];

    /// <summary>A ReLU network's weights (float32, no biases) and its labels.</summary>
    public static IReadOnlyList<NpyArray> Relu(ReluRnnWeights w, string model, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs) =>
    [
        new NpyArray("W_rec", [w.Hidden, w.Hidden], w.RecurrentWeights.ToArray()),
        new NpyArray("W_in", [w.Hidden, w.Input], w.InputWeights.ToArray()),
        new NpyArray("W_out", [w.Outputs, w.Hidden], w.Readout.ToArray()),
        .. Labels(model, w.Input, inputs, w.Outputs, outputs),
    ];

    /// <summary>The labels, one per column of W_in and per row of W_out (checked: a label list of another length is a bug).</summary>
    private static IEnumerable<NpyArray> Labels(string model, int inputCount, IReadOnlyList<string> inputs, int outputCount, IReadOnlyList<string> outputs)
    {
        if (inputs.Count != inputCount) throw new ArgumentException($"{inputs.Count} labels for W_in's {inputCount} columns", nameof(inputs));
        if (outputs.Count != outputCount) throw new ArgumentException($"{outputs.Count} labels for W_out's {outputCount} rows", nameof(outputs));
        return [NpyArray.Text("model", model), NpyArray.Text("W_in_columns", [.. inputs]), NpyArray.Text("W_out_rows", [.. outputs])];
    }
}
