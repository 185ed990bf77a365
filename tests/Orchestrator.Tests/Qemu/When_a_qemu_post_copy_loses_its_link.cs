using System.Diagnostics;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.TestSupport.Qemu;
using Orchestrator.Workers.Qemu;

namespace Orchestrator.Tests.Qemu;

/// <summary>
/// Post-copy recovery on real QEMU, driven by the orchestrator over RabbitMQ and PostgreSQL: the link of a post-copy
/// migration breaks for real while post-copy runs, both QEMUs go <c>postcopy-paused</c>, and the worker
/// resumes it (<c>migrate-recover</c> on the destination, <c>migrate resume</c> on the source). The guest's own status
/// block says whether it arrived intact.
/// </summary>
[Trait("Category", "Qemu")]
[Collection(QemuCollection.Name)]
public sealed class When_a_qemu_post_copy_loses_its_link(QemuOrchestrator orchestrator)
{
    const string A = QemuOrchestrator.Source;
    const string B = QemuOrchestrator.Target;

    [Fact]
    public async Task Should_resume_it_after_migrate_pause_and_complete_with_the_guest_intact()
    {
        const string vm = "vm-pc-pause";
        // migrate-pause on the source's second QMP monitor: QEMU shuts the migration socket down, as a broken link would.
        var id = await MigrateAndBreak(vm, async observer => await observer.ExecuteAsync("migrate-pause"));
        await ShouldCompleteRecovered(id, vm);
    }

    [Fact]
    public async Task Should_resume_it_after_the_tcp_connection_is_cut_and_complete_with_the_guest_intact()
    {
        const string vm = "vm-pc-cut";
        // The kernel destroys the source's end of the migration connection (ss -K, iproute2, as root); the destination
        // gets a reset. Nothing in QEMU is asked to pause.
        var id = await MigrateAndBreak(vm, _ =>
        {
            var port = new Uri(IncomingMigration.Read(Path.Combine(orchestrator.Lab.Hosts.VmDirectory(B, vm), "incoming.json"))!.Uri
                .Replace("tcp:", "tcp://", StringComparison.Ordinal)).Port;
            using var ss = Process.Start(new ProcessStartInfo("ss", ["-K", "dst", "127.0.0.1", "dport", "=", port.ToString(System.Globalization.CultureInfo.InvariantCulture)])
                { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var killed = ss.StandardOutput.ReadToEnd();
            ss.WaitForExit();
            killed.ShouldContain($"127.0.0.1:{port}", customMessage: "ss -K found the migration connection");
            return Task.CompletedTask;
        });
        await ShouldCompleteRecovered(id, vm);
    }

    /// <summary>Starts a post-copy migration of a hot guest and breaks its link while post-copy runs.</summary>
    async Task<Guid> MigrateAndBreak(string vm, Func<QmpClient, Task> breakLink)
    {
        await orchestrator.Lab.StartVm(A, vm, mib: 32, rate: 256);
        await using var observer = await QmpClient.ConnectAsync(orchestrator.Lab.Hosts.MonitorSocket(A, vm), TimeSpan.FromSeconds(10));
        var watch = new MigrationWatch(observer);
        var id = await orchestrator.Migrate(vm, new MigrationPolicy(MaxDowntimeMs: 300, MaxBandwidthMiBps: 16, AllowPostCopy: true),
            MigrationStrategies.PostCopy);
        await watch.PostCopyActive.WaitAsync(TimeSpan.FromSeconds(60));
        // Broken once the guest runs on the destination (QEMU 7.2 fails, not pauses, a break while the device state is
        // still on its way), with megabytes of its pages still on the source.
        await Eventually.Get(() => orchestrator.Lab.RunState(B, vm), s => s == "running", $"the guest {vm} to run on {B} in post-copy");
        await breakLink(observer);
        // QEMU itself says the link broke: the source went postcopy-paused.
        await watch.PostCopyPaused.WaitAsync(TimeSpan.FromSeconds(10));
        return id;
    }

    async Task ShouldCompleteRecovered(Guid id, string vm)
    {
        var summary = await orchestrator.WaitForEnd(id);
        TestContext.Current.TestOutputHelper?.WriteLine(await orchestrator.Timeline(id));

        summary.State.ShouldBe(MigrationStates.Completed, summary.Reason);
        summary.RunningOn.ShouldBe(B);
        var events = await orchestrator.Events(id);
        var recovered = events.OfType<PostCopyRecovered>().ShouldHaveSingleItem();
        recovered.RunningOn.ShouldBe(B);
        recovered.Attempts.ShouldBeGreaterThanOrEqualTo(1);
        recovered.PausedMs.ShouldBeGreaterThan(0);
        recovered.Detail.ShouldContain("migrate-recover");
        var order = events.Select(e => e.GetType()).ToList();
        order.IndexOf(typeof(PostCopyStarted)).ShouldBeLessThan(order.IndexOf(typeof(PostCopyRecovered)));
        order.IndexOf(typeof(PostCopyRecovered)).ShouldBeLessThan(order.IndexOf(typeof(PostCopyCompleted)));
        events.OfType<MigrationStepFailed>().ShouldBeEmpty();

        var arrived = await orchestrator.Lab.RunsOn(B, vm);
        arrived.IntegrityErrors.ShouldBe(0u);
        arrived.PagesChecked.ShouldBeGreaterThan(0u);
        (await orchestrator.Lab.RunState(B, vm)).ShouldBe("running");
        orchestrator.Lab.Hosts.IsAlive(A, vm).ShouldBeFalse("the postmigrate source is cleaned up");
    }
}
