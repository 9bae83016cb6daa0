using HmmRnn.Host.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace HmmRnn.Host.Tests;

/// <summary>
/// The held-Scalar helpers compute what the plain operations compute, entry by entry against values written out here (the
/// race they guard against — a Scalar freed by its finalizer during the native call — cannot be provoked on demand).
/// Red when a helper swaps its operation (OneMinus as t − 1, Over as a product, Clamp_ not in place).
/// </summary>
[Collection("torch")]
public class HeldScalarsTests
{
    [Fact]
    public void Each_helper_is_its_operation()
    {
        using var scope = NewDisposeScope();
        var t = tensor(new[] { -2.0f, 0.25f, 0.5f, 4.0f });
        float[] Values(Tensor x) => x.data<float>().ToArray();
        Assert.Equal(new[] { 0.1f, 0.25f, 0.5f, 4.0f }, Values(t.ClampMin(0.1)));
        Assert.Equal(new[] { -6.0f, 0.75f, 1.5f, 12.0f }, Values(t.Times(3)));
        Assert.Equal(new[] { -1.0f, 0.125f, 0.25f, 2.0f }, Values(t.Over(2)));
        Assert.Equal(new[] { 3.0f, 0.75f, 0.5f, -3.0f }, Values(t.OneMinus()));
        var u = t.clone();
        Assert.Same(u, u.Times_(2));
        Assert.Equal(new[] { -4.0f, 0.5f, 1.0f, 8.0f }, Values(u));
        var w = t.clone();
        Assert.Same(w, w.ClampMin_(0.3));
        Assert.Equal(new[] { 0.3f, 0.3f, 0.5f, 4.0f }, Values(w));
        Assert.Equal(new[] { -1.5f, -1.5f, -1.5f }, Values(HeldScalars.Full(3, -1.5, ScalarType.Float32, CPU)));
        var v = t.clone();
        v.Clamp_(0, 1);
        Assert.Equal(new[] { 0.0f, 0.25f, 0.5f, 1.0f }, Values(v));
        Assert.Equal(new[] { -2.0f, 0.25f, 0.5f, 4.0f }, Values(t)); // the out-of-place helpers left t alone
    }
}
