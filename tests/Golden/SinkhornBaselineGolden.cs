using HmmRnn.Analysis;
using HmmRnn.Core;

namespace HmmRnn.Golden;

/// <summary>
/// The Sinkhorn loss's reference values at the quick preset's batch of 512 (blur 0.2, scaling 0.5), against the values an
/// independent PyTorch re-implementation of the paper's recipe measured (shared/SPEC.md §A3: "Sinkhorn loss ≈ that of i.i.d.
/// symbols: 7.8 for linear3 at batch 512 against 5.4 for two HMM samples; 38 vs 15 for linear2, T = 100"). Those are printed
/// to two digits from one sample each; ours are held within 5% (our own seed-to-seed spread is ≈ 1–2%).
/// Bugs caught: a cost of ‖x − y‖ instead of ½‖x − y‖², a dropped debiasing term, an i.i.d. sample that keeps its temporal order.
/// </summary>
public class SinkhornBaselineGolden
{
    [Theory]
    [InlineData("linear3", 5.4, 7.8)]
    [InlineData("linear2", 15, 38)]
    public void Plateau_and_floor_at_batch_512_match_the_reimplementation(string name, double hmmVsHmm, double iidVsHmm)
    {
        var entry = HmmCatalogue.Named(name);
        var b = SinkhornBaselines.Of(entry.Hmm, entry.SequenceLength, 512, Rng.FromSeed(0));
        Assert.InRange(b.HmmVsHmm, 0.95 * hmmVsHmm, 1.05 * hmmVsHmm);
        Assert.InRange(b.IidVsHmm, 0.95 * iidVsHmm, 1.05 * iidVsHmm);
    }

    /// <summary>
    /// An HMM with no memory (identical transition rows) emits i.i.d. symbols: its plateau and its floor are the same
    /// quantity, so they differ only by sampling noise (here well under the linear3 gap of 2.4).
    /// </summary>
    [Fact]
    public void Without_memory_the_plateau_is_the_floor()
    {
        var hmm = new Hmm(ProbabilityVector.Create(0.5, 0.5), StochasticMatrix.FromRows([[0.5, 0.5], [0.5, 0.5]]),
            StochasticMatrix.FromRows([[0.9, 0.1], [0.2, 0.8]]));
        var b = SinkhornBaselines.Of(hmm, 30, 512, Rng.FromSeed(3));
        Assert.True(Math.Abs(b.IidVsHmm - b.HmmVsHmm) < 0.1 * b.HmmVsHmm, $"{b}");
    }
}
