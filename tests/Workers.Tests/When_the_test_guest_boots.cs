using Orchestrator.TestSupport;
using Orchestrator.TestSupport.Qemu;

namespace Orchestrator.Workers.Tests;

/// <summary>
/// The guest every QEMU test migrates: it must run the workload its command line names, or a "converging" and a
/// "non-converging" test migrate the same guest.
/// </summary>
[Trait("Category", "Qemu")]
public sealed class When_the_test_guest_boots : IAsyncDisposable
{
    readonly QemuLab _lab = new();

    public async ValueTask DisposeAsync() => await _lab.DisposeAsync();

    [Fact]
    public async Task Should_rewrite_the_working_set_it_was_given_at_no_more_than_its_rate()
    {
        // Neither value is the guest's default (8 MiB at 64 MiB/s).
        await _lab.Hosts.StartAsync("host-a", "vm-paced", _lab.Definition(mib: 12, rate: 24), incoming: false, CancellationToken.None);
        var first = await Eventually.Get(() => _lab.Status("host-a", "vm-paced"), s => s is { IsRunning: true, Pass: >= 1 }, "the guest to run");

        var later = await Eventually.Get(() => _lab.Status("host-a", "vm-paced"), s => s!.UptimeMs >= first!.UptimeMs + 1000,
            "a second of the guest's own clock");

        later!.WorkingSetMiB.ShouldBe(12u);
        later.RateMiBps.ShouldBe(24u);
        var mibPerSecond = (later.PagesDirtied - first!.PagesDirtied) / 256.0 / ((later.UptimeMs - first.UptimeMs) / 1000.0);
        // The guest paces itself by its ACPI clock, allowing a burst of at most 50 ms: never faster than its rate; it may
        // fall behind on a loaded machine (TCG), but not to a crawl.
        mibPerSecond.ShouldBeLessThan(24 * 1.2);
        mibPerSecond.ShouldBeGreaterThan(24 * 0.3);
        later.IntegrityErrors.ShouldBe(0u);
    }

    [Fact]
    public async Task Should_keep_a_working_set_larger_than_its_memory_below_the_top_of_ram()
    {
        await _lab.Hosts.StartAsync("host-a", "vm-big", _lab.Definition(mib: 200, rate: 0), incoming: false, CancellationToken.None);

        var status = await Eventually.Get(() => _lab.Status("host-a", "vm-big"), s => s is { IsRunning: true, Pass: >= 3 }, "two whole passes");

        // 64 MiB of RAM, the working set from 4 MiB up, a MiB kept free at the top.
        status!.WorkingSetMiB.ShouldBeInRange(40u, 59u);
        status.IntegrityErrors.ShouldBe(0u);
        status.PagesChecked.ShouldBeGreaterThan(0u);
    }
}
