using System.Collections.Immutable;
using HmmRnn.Core.Rnn;
using HmmRnn.Host.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HmmRnn.Host.Tasks.Hmm;

/// <summary>
/// The noise-driven ReLU RNN (Torre et al. 2025, eq. 2): fused <c>nn.RNN</c> (ReLU, no bias) and a
/// linear readout without bias. Same mathematics as <see cref="ReluRnn"/> in Core; a test proves it.
/// </summary>
public sealed class HmmRnnModel : nn.Module<Tensor, (Tensor Hidden, Tensor Logits)>
{
    private readonly RNN rnn;
    private readonly Linear readout;

    /// <summary>PyTorch-default initialisation, U(−1/√H, 1/√H) everywhere, plus <paramref name="recurrentIdentity"/>·I on W_hh.</summary>
    public HmmRnnModel(int hidden, int input, int outputs, double recurrentIdentity = 0) : base(nameof(HmmRnnModel))
    {
        (Hidden, Input, Outputs) = (hidden, input, outputs);
        rnn = nn.RNN(input, hidden, numLayers: 1, nonLinearity: nn.NonLinearities.ReLU, bias: false, batchFirst: true);
        readout = nn.Linear(hidden, outputs, hasBias: false);
        // nn.Linear's default init is U(−1/√fan_in, 1/√fan_in) with fan_in = H: the paper's k = H.
        RegisterComponents();
        if (recurrentIdentity != 0)
            using (no_grad())
                rnn.get_parameter("weight_hh_l0")!.add_(eye(hidden).mul_(recurrentIdentity));
    }

    /// <summary>|h|.</summary>
    public int Hidden { get; }
    /// <summary>d.</summary>
    public int Input { get; }
    /// <summary>Number of symbols.</summary>
    public int Outputs { get; }

    /// <summary>Noise [B, T, d] → hidden states [B, T, H] and logits [B, T, O], from h_0 = 0.</summary>
    public override (Tensor Hidden, Tensor Logits) forward(Tensor noise)
    {
        var (h, _) = rnn.call(noise, null);
        return (h, readout.call(h));
    }

    /// <summary>
    /// The network's emissions for <paramref name="count"/> sequences of <paramref name="length"/> steps:
    /// fresh noise x_t ~ N(0, I_d) from h_0 = 0, then one-hot hard Gumbel-softmax samples [count, length, O]
    /// (straight-through gradient). The one path from noise to symbols, for training, validation and evaluation.
    /// <paramref name="noiseScale"/> multiplies the noise (σ; training uses 1): the stochastic-resonance sweep varies it.
    /// </summary>
    public Tensor Emit(long count, int length, double temperature, Generator? generator, double noiseScale = 1)
    {
        using var scope = NewDisposeScope();
        var (_, outputs) = EmitWithStates(count, length, temperature, generator, noiseScale);
        return outputs.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <see cref="Emit"/> with the hidden states that produced the emissions: h [count, length, H] and the one-hot samples
    /// [count, length, O]. The same draws from <paramref name="generator"/> as <see cref="Emit"/>.
    /// </summary>
    public (Tensor Hidden, Tensor Outputs) EmitWithStates(long count, int length, double temperature, Generator? generator, double noiseScale = 1)
    {
        using var scope = NewDisposeScope();
        var (h, logits) = forward(Noise(count, length, generator, noiseScale));
        var outputs = GumbelSoftmax.Hard(logits, temperature, generator);
        return (h.MoveToOuterDisposeScope(), outputs.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The hidden states of <paramref name="count"/> noise-driven runs of <paramref name="length"/> steps from h_0 = 0, without the
    /// readout: [count, length, H]. The boundedness check's runs.
    /// </summary>
    public Tensor States(long count, int length, Generator? generator, double noiseScale = 1)
    {
        using var scope = NewDisposeScope();
        var (h, _) = rnn.call(Noise(count, length, generator, noiseScale), null);
        return h.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Sequences per noise block. torch draws normals on one thread (31 ms for the paper's 4096 × 30 × 100 on our CPU), so a
    /// draw of more sequences on the CPU is split into blocks of this many, each drawn from its own generator seeded by the
    /// caller's, in parallel. A draw of at most this many comes from the caller's generator directly, as before the split: the
    /// quick preset's batches, validation and evaluation chunks draw the same noise as they did.
    /// </summary>
    public const int NoiseBlock = 2048;

    internal Tensor Noise(long count, int length, Generator? generator, double noiseScale = 1)
    {
        var device = readout.weight!.device;
        Tensor noise;
        if (count <= NoiseBlock || device.type != TorchSharp.DeviceType.CPU)
            noise = randn([count, length, Input], device: device, generator: generator);
        else
        {
            var blocks = (int)((count + NoiseBlock - 1) / NoiseBlock);
            long[] seeds;
            using (var drawn = randint(0, 1L << 62, [blocks], dtype: ScalarType.Int64, generator: generator))
                seeds = drawn.data<long>().ToArray();
            noise = empty([count, length, Input], device: device);
            var whole = noise;
            Parallel.For(0, blocks, b =>
            {
                using var blockGenerator = new Generator((ulong)seeds[b], device);
                long start = (long)b * NoiseBlock, size = Math.Min(NoiseBlock, count - start);
                using var block = whole.narrow(0, start, size);
                block.normal_(generator: blockGenerator);
            });
        }
        return noiseScale != 1 ? noise.Times_(noiseScale) : noise;
    }

    /// <summary>The weights as an immutable value (copied to the CPU).</summary>
    public ReluRnnWeights Snapshot()
    {
        using var _ = NewDisposeScope();
        static ImmutableArray<float> Copy(Tensor t) => ImmutableArray.Create(t.detach().cpu().contiguous().data<float>().ToArray());
        return new ReluRnnWeights(Hidden, Input, Outputs,
            Copy(rnn.get_parameter("weight_ih_l0")!), Copy(rnn.get_parameter("weight_hh_l0")!), Copy(readout.weight!));
    }

    /// <summary>Overwrites the weights with <paramref name="w"/> (shapes must match).</summary>
    public void Load(ReluRnnWeights w)
    {
        ArgumentNullException.ThrowIfNull(w);
        if (w.Hidden != Hidden || w.Input != Input || w.Outputs != Outputs)
            throw new ArgumentException($"weights are {w.Hidden}/{w.Input}/{w.Outputs} (hidden/input/outputs), the model {Hidden}/{Input}/{Outputs}", nameof(w));
        using var _ = NewDisposeScope();
        using (no_grad())
        {
            void Set(Tensor p, ImmutableArray<float> v, long[] shape) => p.copy_(tensor(v.ToArray(), shape).to(p.device));
            Set(rnn.get_parameter("weight_ih_l0")!, w.InputWeights, [Hidden, Input]);
            Set(rnn.get_parameter("weight_hh_l0")!, w.RecurrentWeights, [Hidden, Hidden]);
            Set(readout.weight!, w.Readout, [Outputs, Hidden]);
        }
    }
}
