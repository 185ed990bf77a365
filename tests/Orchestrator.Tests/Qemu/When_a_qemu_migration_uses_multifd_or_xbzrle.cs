using System.Text.Json;
using Orchestrator.Contracts;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workers.Qemu;

namespace Orchestrator.Tests.Qemu;

/// <summary>
/// multifd and XBZRLE by policy, on real QEMU through the orchestrator: the migration completes with the guest intact,
/// and QEMU itself (its capabilities, parameters and XBZRLE statistics, read on the VM's second QMP monitor while the
/// migration runs) says the feature was on.
/// </summary>
[Trait("Category", "Qemu")]
[Collection(QemuCollection.Name)]
public sealed class When_a_qemu_migration_uses_multifd_or_xbzrle(QemuOrchestrator orchestrator)
{
    const string A = QemuOrchestrator.Source;
    const string B = QemuOrchestrator.Target;

    [Fact]
    public async Task Should_migrate_over_multifd_channels_on_both_sides_with_the_guest_intact()
    {
        const string vm = "vm-multifd";
        var (id, source) = await MigrateWatched(vm, new MigrationPolicy(MaxDowntimeMs: 300, MaxBandwidthMiBps: 32, MultifdChannels: 4,
            AllowPostCopy: false, AllowAutoConverge: false));

        Capability(source.Capabilities, "multifd").ShouldBeTrue("multifd on the source");
        source.Parameters.GetProperty("multifd-channels").GetInt32().ShouldBe(4);
        await using (var destination = await QmpClient.ConnectAsync(orchestrator.Lab.Hosts.MonitorSocket(B, vm), TimeSpan.FromSeconds(10)))
        {
            Capability(await destination.ExecuteAsync("query-migrate-capabilities"), "multifd").ShouldBeTrue("multifd on the destination");
            (await destination.ExecuteAsync("query-migrate-parameters")).GetProperty("multifd-channels").GetInt32().ShouldBe(4);
        }
        await ShouldHaveCompletedIntact(id, vm, p => p.MultifdChannels.ShouldBe(4));
    }

    [Fact]
    public async Task Should_migrate_with_xbzrle_and_its_cache_with_the_guest_intact()
    {
        const string vm = "vm-xbzrle";
        var (id, source) = await MigrateWatched(vm, new MigrationPolicy(MaxDowntimeMs: 300, MaxBandwidthMiBps: 32, XbzrleCacheMiB: 16,
            AllowPostCopy: false, AllowAutoConverge: false));

        Capability(source.Capabilities, "xbzrle").ShouldBeTrue("xbzrle on the source");
        source.Parameters.GetProperty("xbzrle-cache-size").GetInt64().ShouldBe(16L << 20);
        // query-migrate carries XBZRLE statistics only when XBZRLE is on.
        source.Migration.GetProperty("xbzrle-cache").GetProperty("cache-size").GetInt64().ShouldBe(16L << 20);
        await ShouldHaveCompletedIntact(id, vm, p => p.XbzrleCacheMiB.ShouldBe(16));
    }

    /// <summary>QEMU's answers on the source while its migration is active.</summary>
    sealed record SourceView(JsonElement Capabilities, JsonElement Parameters, JsonElement Migration);

    /// <summary>Starts the migration and reads the source's capabilities, parameters and query-migrate while it is active.</summary>
    async Task<(Guid Id, SourceView Source)> MigrateWatched(string vm, MigrationPolicy policy)
    {
        // 8 MiB rewritten at 16 MiB/s: the first pass (all 64 MiB at 32 MiB/s) alone takes about 2 s.
        await orchestrator.Lab.StartVm(A, vm, mib: 8, rate: 16);
        await using var observer = await QmpClient.ConnectAsync(orchestrator.Lab.Hosts.MonitorSocket(A, vm), TimeSpan.FromSeconds(10));
        var id = await orchestrator.Migrate(vm, policy, MigrationStrategies.PreCopy);
        var migration = await Eventually.Get(() => observer.ExecuteAsync("query-migrate"),
            m => m.TryGetProperty("status", out var s) && s.GetString() == "active" && m.GetProperty("ram").GetProperty("transferred").GetInt64() > 0,
            $"the migration of {vm} to be active");
        var view = new SourceView(await observer.ExecuteAsync("query-migrate-capabilities"), await observer.ExecuteAsync("query-migrate-parameters"), migration);
        return (id, view);
    }

    async Task ShouldHaveCompletedIntact(Guid id, string vm, Action<MigrationPolicy> policyInForce)
    {
        var summary = await orchestrator.WaitForEnd(id);
        TestContext.Current.TestOutputHelper?.WriteLine(await orchestrator.Timeline(id));
        summary.State.ShouldBe(MigrationStates.Completed, summary.Reason);
        summary.RunningOn.ShouldBe(B);
        policyInForce((await orchestrator.Events(id)).OfType<MigrationRequested>().Single().Policy);
        var arrived = await orchestrator.Lab.RunsOn(B, vm);
        arrived.IntegrityErrors.ShouldBe(0u);
        arrived.PagesChecked.ShouldBeGreaterThan(0u);
        orchestrator.Lab.Hosts.IsAlive(A, vm).ShouldBeFalse("the postmigrate source is cleaned up");
    }

    static bool Capability(JsonElement capabilities, string name) =>
        capabilities.EnumerateArray().Single(c => c.GetProperty("capability").GetString() == name).GetProperty("state").GetBoolean();
}
