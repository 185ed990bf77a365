using Orchestrator.Workers.Sim;

namespace Orchestrator.Workers.Tests;

/// <summary>
/// The shape of Clark et al.'s pre-copy results, under every profile: relations, not the paper's constants. Xen's first
/// pass runs at its 50 Mbit/s starting rate, so its link is five times that (250 Mbit/s, the 1:5 of Clark's 100/500
/// Mbit/s setup); the others run on a 1 Gbit/s link.
/// </summary>
public sealed class When_hypervisor_profiles_shape_pre_copy(ITestOutputHelper output)
{
    const long MiB = 1024 * 1024;
    const long GiB = 1024 * MiB;

    public static TheoryData<string> Profiles => [.. SimProfiles.Names];

    /// <summary>A VM that dirties a small working set much slower than the link.</summary>
    static SimVm Small => new("small-wss", 1 * GiB, WorkingSetBytes: 4 * MiB, DirtyRateBytesPerSecond: 2 * MiB);

    /// <summary>A VM that rewrites a working set of half its memory twice as fast as the link.</summary>
    static SimVm Hot(string profile) =>
        new("hot", 1 * GiB, WorkingSetBytes: 512 * MiB, DirtyRateBytesPerSecond: 2 * (long)SimProfiles.Get(profile).MemoryRate(Link(profile)));

    /// <summary>A web server: a moderate working set dirtied at about a third of the link.</summary>
    static SimVm Web(long link) => new("web", 1 * GiB, WorkingSetBytes: 64 * MiB, DirtyRateBytesPerSecond: link / 3);

    static long Link(string profile) => profile == SimProfiles.XenName ? 250_000_000 / 8 : 1_000_000_000 / 8;

    PreCopyResult Run(string profile, SimVm vm, bool autoConverge = false)
    {
        var link = Link(profile);
        var result = PreCopyModel.Simulate(vm, SimProfiles.Get(profile), link, maxDowntimeMs: 300, seed: 42, autoConverge: autoConverge);
        var mOverB = (double)vm.MemoryBytes / link;
        output.WriteLine($"{profile,-8} {vm.VmId,-10} link {link * 8 / 1e6:0} Mbit/s: {result.Passes.Count} passes, stop {result.Passes[^1].Stop}, "
            + $"downtime {result.DowntimeMs:0.0} ms, total {result.TotalSeconds:0.00} s = {result.TotalSeconds / mOverB:0.00} x M/B, "
            + $"sent {result.TotalBytes / (double)vm.MemoryBytes:0.00} x M, wire {result.WireBytes / (double)vm.MemoryBytes:0.00} x M");
        foreach (var pass in result.Passes)
            output.WriteLine($"    pass {pass.Round,2}: {pass.WireBytesPerSecond * 8 / 1e6,7:0.0} Mbit/s, sent {pass.BytesSent / (double)MiB,8:0.0} MiB in {pass.Seconds,7:0.000} s, "
                + $"dirtied {pass.BytesRemaining / (double)MiB,7:0.0} MiB, throttle {pass.ThrottlePercent} %");
        return result;
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Should_converge_in_a_few_passes_with_tens_of_milliseconds_of_downtime_when_the_working_set_is_small(string profile)
    {
        var result = Run(profile, Small);
        result.Passes.Count.ShouldBeLessThanOrEqualTo(6);
        result.Passes[^1].Stop.ShouldBeOneOf(PreCopyStop.BelowThreshold, PreCopyStop.DowntimeFits);
        result.DowntimeMs.ShouldBeInRange(1, 100);
    }

    [Theory]
    [InlineData(SimProfiles.GenericName)]
    [InlineData(SimProfiles.XenName)]
    [InlineData(SimProfiles.HyperVName)]
    public void Should_not_converge_and_stop_with_a_long_downtime_when_the_guest_dirties_faster_than_the_link(string profile)
    {
        var result = Run(profile, Hot(profile));
        result.Passes[^1].Stop.ShouldBeOneOf(PreCopyStop.DirtyRateExceedsTransferRate, PreCopyStop.RoundCap);
        result.DowntimeMs.ShouldBeGreaterThan(1000);
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Should_take_between_one_and_about_five_times_memory_over_bandwidth(string profile)
    {
        var vm = Web(Link(profile));
        var result = Run(profile, vm);
        var mOverB = (double)vm.MemoryBytes / Link(profile);
        result.TotalSeconds.ShouldBeGreaterThanOrEqualTo(mOverB / SimProfiles.Get(profile).CompressionRatio);
        result.TotalSeconds.ShouldBeLessThanOrEqualTo(5.5 * mOverB);
    }
}
