using System.Diagnostics;
using Orchestrator.Workers.Sim;

namespace Orchestrator.Workers.Tests;

public sealed class When_pages_are_dirtied_by_the_model(ITestOutputHelper output)
{
    const long MiB = 1024 * 1024;
    const long GiB = 1024 * MiB;
    const long Link = 1_000_000_000 / 8;
    static readonly SimVm Vm = new("vm-db", 4 * GiB, WorkingSetBytes: 256 * MiB, DirtyRateBytesPerSecond: 300 * MiB);

    [Fact]
    public void Should_give_the_same_passes_for_the_same_seed_and_other_passes_for_another()
    {
        var first = PreCopyModel.Simulate(Vm, SimProfiles.Generic, Link, 300, seed: 7);
        var again = PreCopyModel.Simulate(Vm, SimProfiles.Generic, Link, 300, seed: 7);
        var other = PreCopyModel.Simulate(Vm, SimProfiles.Generic, Link, 300, seed: 8);

        again.Passes.ShouldBe(first.Passes);
        again.DowntimeMs.ShouldBe(first.DowntimeMs);
        other.Passes.Select(p => p.BytesRemaining).ShouldNotBe(first.Passes.Select(p => p.BytesRemaining));
    }

    [Fact]
    public void Should_seed_each_migration_of_a_vm_differently_but_reproducibly()
    {
        var migration = Guid.NewGuid();

        SimRandom.Seed(Vm.EffectiveSeed, migration).ShouldBe(SimRandom.Seed(Vm.EffectiveSeed, migration));
        SimRandom.Seed(Vm.EffectiveSeed, migration).ShouldNotBe(SimRandom.Seed(Vm.EffectiveSeed, Guid.NewGuid()));
        SimRandom.Seed(Vm.EffectiveSeed, migration).ShouldNotBe(SimRandom.Seed(SimVm.FromId("other").EffectiveSeed, migration));
    }

    [Fact]
    public void Should_simulate_a_4_GiB_vm_in_milliseconds()
    {
        PreCopyModel.Simulate(Vm, SimProfiles.Generic, Link, 300);
        var clock = Stopwatch.StartNew();

        var result = PreCopyModel.Simulate(Vm, SimProfiles.Generic with { MaxRounds = 30 }, Link, maxDowntimeMs: 1);

        output.WriteLine($"{result.Passes.Count} passes of a 4 GiB VM simulated in {clock.Elapsed.TotalMilliseconds:0.000} ms");
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromMilliseconds(50));
        result.Passes.Count.ShouldBe(30);
    }

    [Fact]
    public void Should_dirty_the_hot_set_first_and_the_cold_tail_slowly()
    {
        var model = new DirtyPageModel(Vm, new SimRandom(1));

        var (hotShort, coldShort) = model.Dirtied(0, 0.1, 0);
        var (hotLong, coldLong) = model.Dirtied(0, 10, 0);

        // 30 MiB written over a 256 MiB hot set: most writes hit distinct pages; 3 GiB written: nearly all of it.
        (hotShort * Vm.PageSize).ShouldBeInRange(25 * MiB, 30 * MiB);
        hotLong.ShouldBeGreaterThan(Vm.HotPages * 99 / 100);
        hotLong.ShouldBeLessThanOrEqualTo(Vm.HotPages);
        // The cold tail (3 MiB/s over 3.75 GiB) is only touched here and there.
        coldLong.ShouldBeGreaterThan(coldShort);
        (coldLong * Vm.PageSize).ShouldBeLessThan(31 * MiB);
    }

    [Fact]
    public void Should_dirty_more_once_the_workload_bursts()
    {
        var bursty = Vm with { DirtyRateBytesPerSecond = 10 * MiB, BurstAfterSeconds = 5, BurstDirtyRateBytesPerSecond = 200 * MiB };
        var model = new DirtyPageModel(bursty, new SimRandom(1));

        var (calm, _) = model.Dirtied(0, 1, 0);
        var (straddling, _) = model.Dirtied(4.5, 1, 0);
        var (hot, _) = model.Dirtied(6, 1, 0);

        calm.ShouldBeLessThan(straddling);
        straddling.ShouldBeLessThan(hot);
    }

    [Fact]
    public void Should_dirty_less_under_a_vcpu_throttle()
    {
        var model = new DirtyPageModel(Vm, new SimRandom(1));

        var (free, _) = model.Dirtied(0, 0.2, 0);
        var (throttled, _) = model.Dirtied(0, 0.2, 60);

        throttled.ShouldBeLessThan(free * 6 / 10);
    }
}
