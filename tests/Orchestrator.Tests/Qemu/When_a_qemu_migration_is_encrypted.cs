using Orchestrator.Contracts;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workers.Qemu;

namespace Orchestrator.Tests.Qemu;

/// <summary>
/// The encrypted migration stream through the orchestrator, on real QEMU: a qemu migration is encrypted unless its
/// policy says otherwise, and the effective policy records it; a target whose certificate another CA signed is refused
/// and the migration rolls back with the VM intact on its source; a source without credentials is refused at the
/// pre-flight, never moved in plain TCP, unless the policy asks for plain TCP. (The bytes on the link are checked by
/// When_a_qemu_migration_stream_is_encrypted, whose relay records them.)
/// </summary>
[Trait("Category", "Qemu")]
[Collection(QemuCollection.Name)]
public sealed class When_a_qemu_migration_is_encrypted(QemuOrchestrator orchestrator)
{
    const string A = QemuOrchestrator.Source;
    const string B = QemuOrchestrator.Target;
    static readonly MigrationPolicy Quick = new(MaxDowntimeMs: 300, MaxBandwidthMiBps: 64, AllowPostCopy: false, AllowAutoConverge: false);

    [Fact]
    public async Task Should_encrypt_by_default_record_it_in_the_policy_and_arrive_intact()
    {
        const string vm = "vm-tls-default";
        await orchestrator.Lab.StartVm(A, vm, mib: 8, rate: 16);

        var id = await orchestrator.Migrate(vm, Quick, MigrationStrategies.PreCopy);
        var summary = await orchestrator.WaitForEnd(id);

        summary.State.ShouldBe(MigrationStates.Completed, summary.Reason);
        (await orchestrator.Events(id)).OfType<MigrationRequested>().Single().Policy.RequireEncryption.ShouldBe(true);
        (await orchestrator.Lab.RunsOn(B, vm)).IntegrityErrors.ShouldBe(0u);
        await using var destination = await QmpClient.ConnectAsync(orchestrator.Lab.Hosts.MonitorSocket(B, vm), TimeSpan.FromSeconds(10));
        (await destination.ExecuteAsync("query-migrate-parameters")).GetProperty("tls-creds").GetString().ShouldBe(QemuTls.ObjectId);
    }

    [Fact]
    public async Task Should_roll_back_intact_on_the_source_when_the_targets_certificate_comes_from_another_ca()
    {
        const string vm = "vm-tls-rogue";
        await orchestrator.Lab.StartVm(A, vm, mib: 8, rate: 16);

        var id = await orchestrator.Migrate(vm, A, QemuOrchestrator.Rogue, Quick, MigrationStrategies.PreCopy);
        var summary = await orchestrator.WaitForEnd(id);

        TestContext.Current.TestOutputHelper?.WriteLine(await orchestrator.Timeline(id));
        summary.State.ShouldBe(MigrationStates.RolledBack, summary.Reason);
        summary.Reason.ShouldNotBeNull().ShouldContain("The certificate hasn't got a known issuer");
        summary.RunningOn.ShouldBe(A);
        (await orchestrator.Lab.RunState(A, vm)).ShouldBe("running");
        (await orchestrator.Lab.RunsOn(A, vm)).IntegrityErrors.ShouldBe(0u);
        await Eventually.Get(() => Task.FromResult(orchestrator.Lab.Hosts.IsAlive(QemuOrchestrator.Rogue, vm)), alive => !alive,
            "the refused destination to be gone");
    }

    [Fact]
    public async Task Should_reject_a_source_without_credentials_at_preflight_and_move_it_in_plain_tcp_only_when_the_policy_says_so()
    {
        const string vm = "vm-tls-bare";
        const string bare = QemuOrchestrator.Bare;
        await orchestrator.Lab.StartVm(bare, vm, mib: 8, rate: 16);

        var refused = await orchestrator.WaitForEnd(await orchestrator.Migrate(vm, bare, B, Quick, MigrationStrategies.PreCopy));
        refused.State.ShouldBe(MigrationStates.Rejected, refused.Reason);
        refused.Reason.ShouldNotBeNull().ShouldContain($"ca-cert.pem, client-cert.pem, client-key.pem missing in {orchestrator.Lab.TlsDirectory}");
        orchestrator.Lab.Hosts.IsAlive(B, vm).ShouldBeFalse("nothing was prepared on the target");
        (await orchestrator.Lab.RunsOn(bare, vm)).IntegrityErrors.ShouldBe(0u);

        var plain = await orchestrator.WaitForEnd(await orchestrator.Migrate(vm, bare, B, Quick with { RequireEncryption = false }, MigrationStrategies.PreCopy));
        plain.State.ShouldBe(MigrationStates.Completed, plain.Reason);
        (await orchestrator.Lab.RunsOn(B, vm)).IntegrityErrors.ShouldBe(0u);
        await using var destination = await QmpClient.ConnectAsync(orchestrator.Lab.Hosts.MonitorSocket(B, vm), TimeSpan.FromSeconds(10));
        (await destination.ExecuteAsync("query-migrate-parameters")).GetProperty("tls-creds").GetString().ShouldBe("");
    }
}
