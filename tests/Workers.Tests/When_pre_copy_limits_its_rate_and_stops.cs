using Orchestrator.Workers.Sim;

namespace Orchestrator.Workers.Tests;

public sealed class When_pre_copy_limits_its_rate_and_stops
{
    const long MiB = 1024 * 1024;
    const long GiB = 1024 * MiB;
    const long Mbit = 1_000_000 / 8;

    [Fact]
    public void Should_start_xen_at_50_Mbit_per_second_and_raise_the_rate_every_pass_up_to_the_cap()
    {
        var vm = new SimVm("web", 1 * GiB, WorkingSetBytes: 64 * MiB, DirtyRateBytesPerSecond: 40 * MiB);

        var passes = PreCopyModel.Simulate(vm, SimProfiles.Xen, 500 * Mbit, maxDowntimeMs: 300, seed: 1).Passes;

        passes[0].WireBytesPerSecond.ShouldBe(50 * Mbit);
        passes.Count.ShouldBeGreaterThan(3);
        var rates = passes.Select(p => p.WireBytesPerSecond).ToList();
        for (var i = 1; i < rates.Count; i++)
            rates[i].ShouldBe(Math.Min(500 * Mbit, Math.Max(rates[i - 1] + 50 * Mbit, passes[i - 1].DirtyRateBytesPerSecond + 50 * Mbit)));
        rates.ShouldContain(500 * Mbit);
    }

    [Fact]
    public void Should_run_every_pass_at_the_cap_without_a_ramp()
    {
        var vm = new SimVm("web", 1 * GiB, WorkingSetBytes: 64 * MiB, DirtyRateBytesPerSecond: 40 * MiB);

        var passes = PreCopyModel.Simulate(vm, SimProfiles.Esxi, 500 * Mbit, maxDowntimeMs: 300, seed: 1).Passes;

        passes.ShouldAllBe(p => p.WireBytesPerSecond == 500 * Mbit);
    }

    [Fact]
    public void Should_stop_once_fewer_than_50_pages_were_dirtied_and_not_before()
    {
        // Xen has no downtime target: only the threshold ends this migration.
        var vm = new SimVm("idle", 512 * MiB, WorkingSetBytes: 2 * MiB, DirtyRateBytesPerSecond: 1 * MiB) { ColdDirtyRateBytesPerSecond = 0 };

        var passes = PreCopyModel.Simulate(vm, SimProfiles.Xen, 1000 * Mbit, maxDowntimeMs: 300, seed: 3).Passes;

        passes[^1].Stop.ShouldBe(PreCopyStop.BelowThreshold);
        (passes[^1].BytesRemaining / vm.PageSize).ShouldBeLessThan(50);
        passes.SkipLast(1).ShouldAllBe(p => p.BytesRemaining / vm.PageSize >= 50);
    }

    [Fact]
    public void Should_stop_when_the_guest_outruns_the_capped_link()
    {
        var vm = new SimVm("hot", 2 * GiB, WorkingSetBytes: 1 * GiB, DirtyRateBytesPerSecond: 400 * MiB);

        var result = PreCopyModel.Simulate(vm, SimProfiles.Xen, 100 * MiB, maxDowntimeMs: 300, seed: 1);

        result.Passes[^1].Stop.ShouldBe(PreCopyStop.DirtyRateExceedsTransferRate);
        result.Passes.Count.ShouldBeLessThan(30);
        result.DowntimeMs.ShouldBeGreaterThan(1000);
    }

    [Fact]
    public void Should_stop_at_the_pass_cap_when_nothing_else_stops_it()
    {
        var vm = new SimVm("hot", 2 * GiB, WorkingSetBytes: 1 * GiB, DirtyRateBytesPerSecond: 400 * MiB);

        // A QEMU-like hypervisor with a 30-pass cap: no outrun check, so only the cap ends it.
        var result = PreCopyModel.Simulate(vm, SimProfiles.Generic with { MaxRounds = 30 }, 100 * MiB, maxDowntimeMs: 300, seed: 1);

        result.Passes.Count.ShouldBe(30);
        result.Passes[^1].Stop.ShouldBe(PreCopyStop.RoundCap);
        result.DowntimeMs.ShouldBeGreaterThan(1000);
        result.TotalBytes.ShouldBeGreaterThan(10 * vm.MemoryBytes);
    }

    [Fact]
    public void Should_throttle_from_20_percent_in_10_percent_steps_up_to_99_until_the_guest_falls_behind_the_link()
    {
        var vm = new SimVm("hot", 2 * GiB, WorkingSetBytes: 1 * GiB, DirtyRateBytesPerSecond: 400 * MiB);

        var unthrottled = PreCopyModel.Simulate(vm, SimProfiles.Generic, 100 * MiB, maxDowntimeMs: 300, seed: 1);
        var throttled = PreCopyModel.Simulate(vm, SimProfiles.Generic, 100 * MiB, maxDowntimeMs: 300, seed: 1, autoConverge: true);

        var steps = throttled.Passes.Select(p => p.ThrottlePercent).Distinct().ToList();
        steps.Take(4).ShouldBe([0, 20, 30, 40]);
        steps.ShouldAllBe(t => t <= 99);
        throttled.Passes[^1].Stop.ShouldBe(PreCopyStop.DowntimeFits);
        throttled.DowntimeMs.ShouldBeLessThanOrEqualTo(300);
        throttled.Passes.Count.ShouldBeLessThan(unthrottled.Passes.Count);
    }

    [Fact]
    public void Should_reach_99_percent_and_no_further()
    {
        SimProfiles.Generic.NextThrottle(0).ShouldBe(20);
        SimProfiles.Generic.NextThrottle(20).ShouldBe(30);
        SimProfiles.Generic.NextThrottle(90).ShouldBe(99);
        SimProfiles.Generic.NextThrottle(99).ShouldBe(99);
    }
}
