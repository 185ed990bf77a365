using Orchestrator.Contracts;
using Orchestrator.ReadModels.Attention;
using Orchestrator.ReadModels.Hosts;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.ReadModels.Statistics;

namespace Orchestrator.ReadModels.Tests;

[Trait("Category", "Integration")]
public sealed class When_the_fleet_dashboards_are_projected : IAsyncLifetime
{
    Fleet _fleet = null!;

    public async ValueTask InitializeAsync() => _fleet = await Fleet.Projected();

    public ValueTask DisposeAsync() => _fleet.DisposeAsync();

    [Fact]
    public async Task Should_count_per_host_the_active_and_queued_migrations_in_and_out()
    {
        await using var session = _fleet.Store.QuerySession();
        var hosts = (await session.Hosts()).ToDictionary(h => h.Id);

        hosts.Keys.ShouldBe(["host-a", "host-b", "host-c"]);
        var a = hosts["host-a"];
        (a.ActiveOutbound, a.ActiveInbound, a.QueuedOutbound, a.QueuedInbound, a.TotalOutbound, a.TotalInbound).ShouldBe((1, 0, 1, 0, 3, 2));
        a.Migrations.Select(m => m.MigrationId).ShouldBe([_fleet.Running, _fleet.Queued], ignoreOrder: true);
        var b = hosts["host-b"];
        (b.ActiveOutbound, b.ActiveInbound, b.QueuedOutbound, b.QueuedInbound, b.TotalOutbound, b.TotalInbound).ShouldBe((1, 1, 0, 0, 3, 2));
        var c = hosts["host-c"];
        (c.ActiveOutbound, c.ActiveInbound, c.QueuedOutbound, c.QueuedInbound, c.TotalOutbound, c.TotalInbound).ShouldBe((0, 1, 0, 1, 2, 4));
        (await session.Host("host-z")).ShouldBeNull();
    }

    [Fact]
    public async Task Should_put_lost_vms_failed_rollbacks_and_quiet_migrations_on_the_attention_queue_with_reason_and_time()
    {
        await using var session = _fleet.Store.QuerySession();

        var queue = await session.Attention(_fleet.Now, TimeSpan.FromMinutes(10));

        queue.Select(e => (e.MigrationId, e.Kind)).ShouldBe(
            [(_fleet.Stuck, AttentionKinds.Stuck), (_fleet.VmLost, AttentionKinds.VmLost), (_fleet.RollbackFailed, AttentionKinds.RollbackFailed)],
            ignoreOrder: true);
        var lost = queue.Single(e => e.MigrationId == _fleet.VmLost);
        lost.Reason.ShouldContain("split between host-c and host-b");
        lost.FailedIn.ShouldBe(MigrationStates.PostCopying);
        lost.VmRunningOn.ShouldBeNull();
        lost.LastEventAt.ShouldBe(_fleet.Now.AddHours(-1).AddSeconds(2));
        var rollback = queue.Single(e => e.MigrationId == _fleet.RollbackFailed);
        rollback.FailedIn.ShouldBe(MigrationStates.RollingBack);
        rollback.VmRunningOn.ShouldBe("host-a");
        var stuck = queue.Single(e => e.MigrationId == _fleet.Stuck);
        stuck.State.ShouldBe(MigrationStates.Checking);
        stuck.Reason.ShouldContain("No event for 2 h while Checking");
        stuck.LastEventAt.ShouldBe(_fleet.Now.AddHours(-2));
        // A longer threshold: the quiet one is no longer stuck; the failed ones stay until an operator acts.
        (await session.Attention(_fleet.Now, TimeSpan.FromHours(3))).Select(e => e.Kind)
            .ShouldBe([AttentionKinds.VmLost, AttentionKinds.RollbackFailed], ignoreOrder: true);
        // The gauges count the same queue where it is stored, kind by kind, at either threshold.
        foreach (var threshold in new[] { TimeSpan.FromMinutes(10), TimeSpan.FromHours(3) })
            (await _fleet.Store.AttentionCounts(_fleet.Now, threshold, AttentionQueries.DefaultDeadLettersFor)).ShouldBe(
                (await session.Attention(_fleet.Now, threshold)).GroupBy(e => e.Kind).ToDictionary(g => g.Key, g => (long)g.Count()), ignoreOrder: true);
    }

    [Fact]
    public async Task Should_count_outcomes_and_give_downtime_percentiles_and_time_per_GiB_per_hypervisor_and_strategy()
    {
        var all = await _fleet.Store.Statistics(new StatisticsFilter());

        all.Migrations.ShouldBe(9);
        all.States[MigrationStates.Completed].ShouldBe(3);
        all.States[MigrationStates.Failed].ShouldBe(2);
        all.States[MigrationStates.Rejected].ShouldBe(1);
        all.States[MigrationStates.Queued].ShouldBe(1);
        var simPreCopy = all.Completed.Single(c => c is { Hypervisor: HypervisorKinds.Sim, Strategy: MigrationStrategies.PreCopy });
        simPreCopy.Completed.ShouldBe(2);
        simPreCopy.DowntimeP50Ms!.Value.ShouldBe(200, 1e-9);
        simPreCopy.DowntimeP90Ms!.Value.ShouldBe(280, 1e-9);
        simPreCopy.DowntimeP99Ms!.Value.ShouldBe(298, 1e-9);
        simPreCopy.SecondsPerGiB!.Value.ShouldBe(3.0, 1e-9); // 12 s over 4 GiB
        var qemu = all.Completed.Single(c => c is { Hypervisor: HypervisorKinds.Qemu, Strategy: null });
        (qemu.Completed, qemu.DowntimeP50Ms, qemu.SecondsPerGiB).ShouldBe((1, 20.0, 1.0));
        all.Completed.Single(c => c is { Hypervisor: null, Strategy: null }).Completed.ShouldBe(3);
        all.Completed.Single(c => c is { Hypervisor: null, Strategy: MigrationStrategies.PostCopy }).Completed.ShouldBe(1);

        var onlyQemu = await _fleet.Store.Statistics(new StatisticsFilter(Hypervisor: HypervisorKinds.Qemu));
        onlyQemu.Migrations.ShouldBe(1);
        onlyQemu.Completed.ShouldAllBe(c => c.Completed == 1);
        var older = await _fleet.Store.Statistics(new StatisticsFilter(Until: _fleet.Now.AddMinutes(-90)));
        older.States.ShouldBe(new Dictionary<string, int> { [MigrationStates.Checking] = 1 });
        older.Completed.ShouldBeEmpty();
        var recent = await _fleet.Store.Statistics(new StatisticsFilter(Since: _fleet.Now.AddMinutes(-10)));
        recent.Migrations.ShouldBe(3);
    }
}
