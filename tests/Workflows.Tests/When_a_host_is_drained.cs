using Orchestrator.Contracts;
using Orchestrator.ReadModels.Drains;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workers.Sim;
using Orchestrator.Workflows.Drain;

namespace Orchestrator.Workflows.Tests;

/// <summary>A host drain: every VM moved or reported, under the admission limits, as one tracked operation.</summary>
[Trait("Category", "Integration")]
public sealed class When_a_host_is_drained
{
    [Fact]
    public async Task Should_move_all_fifty_vms_never_more_than_two_at_once_and_report_those_that_cannot_move()
    {
        var vms = Enumerable.Range(1, 50).Select(i => $"vm-drain-{i:00}").ToList();
        await using var orchestrator = await InMemoryOrchestrator.StartAsync(sim =>
        {
            // 1 GiB each at 1 GiB/s, one simulated second each, 50 ms of wall time: long enough for slots to overlap.
            sim.RealTimeFactor = 0.05;
            foreach (var vm in vms)
            {
                sim.Vms[vm] = new SimVm(vm, 1L << 30, WorkingSetBytes: 4L << 20, DirtyRateBytesPerSecond: 1L << 20);
                sim.Placements[vm] = "host-a";
            }
            // Bigger than any host: no target can take them.
            foreach (var vm in new[] { "vm-drain-huge-1", "vm-drain-huge-2" })
            {
                sim.Vms[vm] = new SimVm(vm, 300L << 30, WorkingSetBytes: 4L << 20, DirtyRateBytesPerSecond: 1L << 20);
                sim.Placements[vm] = "host-a";
            }
        }, admission: limits => (limits.MaxOutboundPerHost, limits.MaxInboundPerHost, limits.MaxPerCluster) = (2, 10, 10));
        var drainId = Guid.NewGuid();

        await orchestrator.Send(QueueNames.DrainHost, new DrainHost(drainId, "host-a", HypervisorKinds.Sim, ["host-b", "host-c"], "olga"));
        var drain = await Eventually.Get(async () =>
        {
            await using var session = orchestrator.Store.QuerySession();
            return await DrainProgress.Load(session, drainId);
        }, d => d is { IsFinished: true }, "the drain to finish", TimeSpan.FromMinutes(3));

        drain!.State.ShouldBe(DrainProgress.DrainedWithProblems, drain.Reason);
        drain.Moved.ShouldBe(50);
        drain.Items.ShouldAllBe(i => i.State == MigrationStates.Completed);
        drain.MaxActiveSeen.ShouldBe(2);
        // The forecast recorded with the plan, beside what happened: two at a time over the host's uplink, in the plan's order.
        drain.PredictedTotalSeconds.ShouldNotBeNull().ShouldBeGreaterThan(0);
        drain.ElapsedSeconds.ShouldNotBeNull().ShouldBeGreaterThan(0);
        drain.Items.ShouldAllBe(i => i.PredictedEndSeconds > i.PredictedStartSeconds && i.PredictedOutcome != null
            && i.EndedSeconds >= i.StartedSeconds && i.DowntimeMs > 0);
        drain.Items.Count(i => i.PredictedStartSeconds == 0).ShouldBe(2, "two start at once, the others wait for a slot");
        drain.PredictedTotalSeconds!.Value.ShouldBe(drain.Items.Max(i => i.PredictedEndSeconds!.Value), 0.01);
        drain.Unmovable.Select(p => p.VmId).Order().ShouldBe(["vm-drain-huge-1", "vm-drain-huge-2"]);
        drain.Unmovable.ShouldAllBe(p => p.Reason.Contains("No target has room for its 300 GiB"));
        orchestrator.Fleet.VmsOn("host-a").Order().ShouldBe(["vm-drain-huge-1", "vm-drain-huge-2"]);
        orchestrator.Fleet.VmsOn("host-b").Count.ShouldBe(25);
        orchestrator.Fleet.VmsOn("host-c").Count.ShouldBe(25);
    }

    [Fact]
    public async Task Should_start_no_second_migration_when_the_same_drain_arrives_twice()
    {
        await using var orchestrator = await InMemoryOrchestrator.StartAsync(sim =>
        {
            foreach (var vm in new[] { "vm-twice-1", "vm-twice-2" })
                sim.Placements[vm] = "host-a";
        });
        var drain = new DrainHost(Guid.NewGuid(), "host-a", HypervisorKinds.Sim, ["host-b"], "olga");

        await orchestrator.Send(QueueNames.DrainHost, drain);
        await orchestrator.Send(QueueNames.DrainHost, drain);
        var progress = await Eventually.Get(async () =>
        {
            await using var session = orchestrator.Store.QuerySession();
            return await DrainProgress.Load(session, drain.DrainId);
        }, d => d is { IsFinished: true }, "the drain to finish");

        progress!.State.ShouldBe(DrainProgress.Drained);
        progress.Items.Select(i => i.MigrationId).ShouldBe([DrainPlanner.MigrationIdFor(drain.DrainId, "vm-twice-1"), DrainPlanner.MigrationIdFor(drain.DrainId, "vm-twice-2")], ignoreOrder: true);
        foreach (var item in progress.Items)
            (await orchestrator.Events(item.MigrationId)).OfType<MigrationRequested>().ShouldHaveSingleItem();
    }

    [Fact]
    public async Task Should_refuse_a_drain_whose_targets_include_the_drained_host_and_say_why()
    {
        await using var orchestrator = await InMemoryOrchestrator.StartAsync();
        var drainId = Guid.NewGuid();

        await orchestrator.Send(QueueNames.DrainHost, new DrainHost(drainId, "host-b", HypervisorKinds.Sim, ["host-b"], "olga"));
        var progress = await Eventually.Get(async () =>
        {
            await using var session = orchestrator.Store.QuerySession();
            return await DrainProgress.Load(session, drainId);
        }, d => d is { IsFinished: true }, "the drain to be refused");

        progress!.State.ShouldBe(DrainProgress.Failed);
        progress.Reason.ShouldBe("The drained host host-b cannot be one of its own targets.");
    }
}
