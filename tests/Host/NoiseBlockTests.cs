using HmmRnn.Host.Tasks.Hmm;
using TorchSharp;
using static TorchSharp.torch;

namespace HmmRnn.Host.Tests;

/// <summary>
/// The driving noise of <see cref="HmmRnnModel"/>: up to <see cref="HmmRnnModel.NoiseBlock"/> sequences it is the caller's
/// generator's own draw (so the quick preset, validation and evaluation draw what they drew before blocks existed); beyond,
/// blocks from generators seeded by the caller's, drawn in parallel — reproducible, independent, standard normal.
/// </summary>
[Collection("torch")]
public class NoiseBlockTests
{
    [Fact]
    public void A_draw_of_at_most_one_block_is_the_callers_generators_own()
    {
        // Red when the block path also takes the small draws (the quick preset's noise would change).
        using var scope = NewDisposeScope();
        using var model = new HmmRnnModel(4, 3, 2);
        using var a = new Generator(7);
        using var b = new Generator(7);
        var noise = model.Noise(HmmRnnModel.NoiseBlock, 5, a);
        var direct = randn([HmmRnnModel.NoiseBlock, 5, 3], generator: b);
        Assert.True(noise.equal(direct).all().item<bool>());
    }

    [Fact]
    public void A_larger_draw_is_reproducible_standard_normal_and_its_blocks_are_independent()
    {
        // 2 blocks and one row of a third. Red when every block takes the first seed (blocks equal), when a block is left
        // unfilled (the moments fail), or when the seeds do not come from the caller's generator (two seeds, two draws equal).
        using var scope = NewDisposeScope();
        using var model = new HmmRnnModel(4, 10, 2);
        long count = 2 * HmmRnnModel.NoiseBlock + 1;
        Tensor Draw(ulong seed)
        {
            using var g = new Generator(seed);
            return model.Noise(count, 5, g);
        }
        var first = Draw(11);
        Assert.True(first.equal(Draw(11)).all().item<bool>(), "the same seed gives the same noise");
        Assert.False(first.equal(Draw(12)).all().item<bool>(), "another seed gives other noise");
        var block0 = first.narrow(0, 0, HmmRnnModel.NoiseBlock);
        var block1 = first.narrow(0, HmmRnnModel.NoiseBlock, HmmRnnModel.NoiseBlock);
        Assert.False(block0.equal(block1).all().item<bool>(), "the blocks are drawn from different generators");
        var values = first.to(ScalarType.Float64);
        double mean = values.mean().item<double>(), variance = values.var().item<double>();
        // 204,850 standard normals: the mean's standard error is 0.0022, the variance's 0.0031.
        Assert.True(Math.Abs(mean) < 0.011, $"mean {mean}");
        Assert.True(Math.Abs(variance - 1) < 0.016, $"variance {variance}");
        var last = first.narrow(0, count - 1, 1).to(ScalarType.Float64);
        Assert.True(last.abs().sum().item<double>() > 0, "the partial last block is drawn");
        // The two blocks are uncorrelated: their elementwise correlation is within 5 standard errors of 0.
        var x = block0.flatten().to(ScalarType.Float64);
        var y = block1.flatten().to(ScalarType.Float64);
        var correlation = ((x - x.mean()) * (y - y.mean())).mean().item<double>() / Math.Sqrt(x.var().item<double>() * y.var().item<double>());
        Assert.True(Math.Abs(correlation) < 5 / Math.Sqrt(x.shape[0]), $"correlation {correlation}");
    }
}
