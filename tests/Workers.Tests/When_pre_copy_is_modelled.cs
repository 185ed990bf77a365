using Orchestrator.Workers.Sim;

namespace Orchestrator.Workers.Tests;

public sealed class When_pre_copy_is_modelled
{
    const long MiB = 1024 * 1024;
    const long GiB = 1024 * MiB;

    [Fact]
    public void Should_converge_in_a_few_rounds_with_a_short_downtime_when_the_working_set_is_small()
    {
        var vm = new SimVm("small-wss", 4 * GiB, WorkingSetBytes: 32 * MiB, DirtyRateBytesPerSecond: 50 * MiB);

        var passes = PreCopyModel.Passes(vm, bandwidthBytesPerSecond: 1 * GiB, maxDowntimeMs: 300).ToList();

        passes.Count.ShouldBeLessThanOrEqualTo(3);
        passes[0].BytesSent.ShouldBe(vm.MemoryBytes);
        passes[^1].IsLast.ShouldBeTrue();
        passes[^1].ExpectedDowntimeMs.ShouldBeLessThan(100);
    }

    [Fact]
    public void Should_stop_at_the_round_cap_with_a_long_downtime_when_the_guest_dirties_faster_than_the_link()
    {
        var vm = new SimVm("hot", 2 * GiB, WorkingSetBytes: 1 * GiB, DirtyRateBytesPerSecond: 400 * MiB);

        var passes = PreCopyModel.Passes(vm, bandwidthBytesPerSecond: 100 * MiB, maxDowntimeMs: 300).ToList();

        passes[^1].IsLast.ShouldBeTrue();
        passes[^1].ExpectedDowntimeMs.ShouldBeGreaterThan(1000);
        // Re-sending does not shrink the dirty set: more than the memory size has gone over the link by the end.
        passes.Sum(p => p.BytesSent).ShouldBeGreaterThan(vm.MemoryBytes);
    }

    [Fact]
    public void Should_take_between_one_and_five_times_memory_over_bandwidth_when_it_converges()
    {
        var vm = new SimVm("web", 2 * GiB, WorkingSetBytes: 128 * MiB, DirtyRateBytesPerSecond: 80 * MiB);
        const long bandwidth = 256 * MiB;

        var passes = PreCopyModel.Passes(vm, bandwidth, maxDowntimeMs: 300).ToList();
        var seconds = passes.Sum(p => p.Seconds) + passes[^1].ExpectedDowntimeMs / 1000;

        var lowerBound = (double)vm.MemoryBytes / bandwidth;
        seconds.ShouldBeGreaterThanOrEqualTo(lowerBound);
        seconds.ShouldBeLessThanOrEqualTo(5 * lowerBound);
    }

    [Fact]
    public void Should_give_the_same_vm_for_the_same_id_every_time()
    {
        SimVm.FromId("vm-042").ShouldBe(SimVm.FromId("vm-042"));
        SimVm.FromId("vm-042").MemoryBytes.ShouldBeGreaterThan(0);
    }
}
