using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using HmmRnn.Analysis;
using HmmRnn.Core;

namespace HmmRnn.Properties;

public class SinkhornProperties
{
    private static Gen<(double[] X, double[] Y, int Dim)> Clouds { get; } =
        from dim in Gen.Choose(1, 4)
        from n in Gen.Choose(1, 8)
        from m in Gen.Choose(1, 8)
        from seed in Gen.Choose(0, int.MaxValue)
        select Make(dim, n, m, seed);

    private static (double[], double[], int) Make(int dim, int n, int m, int seed)
    {
        var x = new double[n * dim];
        var y = new double[m * dim];
        Rng.FromSeed(seed).FillNormal(x).FillNormal(y);
        return (x, y, dim);
    }

    [Property(MaxTest = 100)]
    public Property Divergence_of_a_cloud_with_itself_is_zero() => Prop.ForAll(Clouds.ToArbitrary(), c =>
    {
        var s = Sinkhorn.Compute(c.X, c.X, c.Dim).Divergence;
        return (Math.Abs(s) < 1e-9).Label($"S(x, x) = {s}");
    });

    [Property(MaxTest = 100)]
    public Property Divergence_is_non_negative_and_symmetric() => Prop.ForAll(Clouds.ToArbitrary(), c =>
    {
        var xy = Sinkhorn.Compute(c.X, c.Y, c.Dim).Divergence;
        var yx = Sinkhorn.Compute(c.Y, c.X, c.Dim).Divergence;
        return (xy >= -1e-9 && Math.Abs(xy - yx) < 1e-7 * Math.Max(1, xy)).Label($"S(x, y) = {xy}, S(y, x) = {yx}");
    });

    [Fact]
    public void Far_apart_single_points_cost_half_their_squared_distance()
    {
        // One point each: the plan is forced, OT_ε(x, y) = ½‖x − y‖² and OT_ε(x, x) = 0, so S = ½‖x − y‖²;
        // the matched distance is ‖x − y‖. (Analytic; the entropic terms vanish for Dirac masses.)
        var r = Sinkhorn.Compute([0.0, 0.0], [3.0, 4.0], 2);
        Assert.Equal(12.5, r.Divergence, 9);
        Assert.Equal(5.0, r.MatchedDistance, 9);
    }

    [Fact]
    public void Annealing_schedule_follows_geomloss()
    {
        // diameter 4, blur 0.2, scaling 0.5: ε = 16, then e^(2 log 4 + k·2 log 0.5) while above 0.04
        // (16, 4, 1, 0.25, 0.0625), then 0.04.
        var eps = SinkhornOptions.Paper.Epsilons(4);
        Assert.Equal(new[] { 16, 16, 4, 1, 0.25, 0.0625, 0.04 }, eps.Select(e => Math.Round(e, 10)));
    }
}
