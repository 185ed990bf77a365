using Orchestrator.Workers.Sim;

namespace Orchestrator.Workers.Tests;

public sealed class When_post_copy_is_modelled
{
    const long MiB = 1024 * 1024;
    const long GiB = 1024 * MiB;
    const long Link = 1_000_000_000 / 8;

    [Fact]
    public void Should_send_each_page_once_where_pre_copy_resends_a_write_heavy_working_set()
    {
        var vm = new SimVm("write-heavy", 2 * GiB, WorkingSetBytes: 1 * GiB, DirtyRateBytesPerSecond: 400 * MiB);

        var postCopy = PostCopyModel.Pure(vm, SimProfiles.Generic, Link, seed: 1);
        var preCopy = PreCopyModel.Simulate(vm, SimProfiles.Generic, Link, maxDowntimeMs: 300, seed: 1);

        postCopy.Bytes.ShouldBe(vm.Pages * vm.PageSize + SimProfiles.Generic.DeviceStateBytes);
        preCopy.TotalBytes.ShouldBeGreaterThan(3 * postCopy.Bytes);
        // Total time: one pass over memory at the link rate.
        postCopy.Seconds.ShouldBe((double)postCopy.Bytes / Link, tolerance: 0.001);
    }

    [Fact]
    public void Should_fault_on_most_of_a_busy_working_set_and_hardly_on_an_idle_guest()
    {
        var busy = new SimVm("busy", 2 * GiB, WorkingSetBytes: 256 * MiB, DirtyRateBytesPerSecond: 200 * MiB);
        var idle = busy with { VmId = "idle", DirtyRateBytesPerSecond = 64 * 1024, HotAccessRateBytesPerSecond = 64 * 1024 };

        var busyFaults = PostCopyModel.Pure(busy, SimProfiles.Generic, Link, seed: 1).PageFaults;
        var idleFaults = PostCopyModel.Pure(idle, SimProfiles.Generic, Link, seed: 1).PageFaults;

        busyFaults.ShouldBeGreaterThan(busy.HotPages * 8 / 10);
        busyFaults.ShouldBeLessThanOrEqualTo(busy.Pages);
        idleFaults.ShouldBeLessThan(busy.HotPages / 20);
    }

    [Fact]
    public void Should_fault_less_when_pre_paging_streams_faster()
    {
        var vm = new SimVm("web", 2 * GiB, WorkingSetBytes: 256 * MiB, DirtyRateBytesPerSecond: 20 * MiB);

        var slow = PostCopyModel.Pure(vm, SimProfiles.Generic, Link / 4, seed: 1);
        var fast = PostCopyModel.Pure(vm, SimProfiles.Generic, Link * 4, seed: 1);

        fast.PageFaults.ShouldBeLessThan(slow.PageFaults);
        fast.Seconds.ShouldBeLessThan(slow.Seconds);
    }

    [Fact]
    public void Should_pull_only_the_pages_left_after_pre_copy_passes_in_a_hybrid()
    {
        var vm = new SimVm("hot", 2 * GiB, WorkingSetBytes: 512 * MiB, DirtyRateBytesPerSecond: 400 * MiB);
        var run = new PreCopyRun(vm, SimProfiles.Generic, new SimRandom(1));
        for (var pass = 0; pass < 3; pass++)
            run.Next(Link, 300);
        var (hot, cold) = run.Missing;

        var rest = PostCopyModel.Run(vm, hot, cold, Link, run.Random);

        rest.Bytes.ShouldBe(run.RemainingBytes);
        rest.Bytes.ShouldBeLessThan(vm.MemoryBytes / 2);
        rest.PageFaults.ShouldBeGreaterThan(0);
        rest.PageFaults.ShouldBeLessThanOrEqualTo(hot + cold);
    }
}
