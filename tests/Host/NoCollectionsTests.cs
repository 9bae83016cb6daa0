using System.Runtime;
using HmmRnn.Host.Training;

namespace HmmRnn.Host.Tests;

/// <summary>The no-GC region around each training step and validation (<see cref="NoCollections"/>).</summary>
[Collection("torch")]
public class NoCollectionsTests
{
    private static byte[][] Allocate(int megabytes) => Enumerable.Range(0, megabytes).Select(_ => new byte[1 << 20]).ToArray();

    // Catches: a region never started (a collection during the work could free a Scalar libtorch is reading), and one left
    // open after the work (every later allocation of the process would count against the budget until it lapsed).
    [Fact]
    public void The_work_runs_without_a_collection_and_the_region_ends_with_it()
    {
        var (mode, collections, kept) = NoCollections.Run(() =>
        {
            var before = GC.CollectionCount(0);
            var kept = Allocate(16); // far more than gen0's budget: outside a region this collects
            return (GCSettings.LatencyMode, GC.CollectionCount(0) - before, kept.Length);
        });
        Assert.Equal((GCLatencyMode.NoGCRegion, 0, 16), (mode, collections, kept));
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
    }

    // Catches: an exception from the work swallowed or leaving the region open; work past the budget that throws (the
    // runtime ends the region by collecting; the work must go on, counted) instead of finishing unprotected.
    [Fact]
    public void Work_that_throws_or_allocates_past_the_budget_ends_the_region_and_past_the_budget_is_counted()
    {
        Assert.Throws<InvalidTimeZoneException>(() => NoCollections.Run<int>(() => throw new InvalidTimeZoneException()));
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
        var lapsed = NoCollections.Lapsed;
        Assert.Equal(80, NoCollections.Run(() => Allocate((int)(NoCollections.Budget >> 20) + 16).Length));
        Assert.Equal(lapsed + 1, NoCollections.Lapsed);
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
    }

    // Catches: a nested call that tries to start a second region (the runtime throws) instead of running inside the first.
    [Fact]
    public void A_nested_call_runs_inside_the_outer_region()
    {
        var unavailable = NoCollections.Unavailable;
        var inner = NoCollections.Run(() => NoCollections.Run(() => GCSettings.LatencyMode));
        Assert.Equal(GCLatencyMode.NoGCRegion, inner);
        Assert.Equal(unavailable + 1, NoCollections.Unavailable);
    }
}
