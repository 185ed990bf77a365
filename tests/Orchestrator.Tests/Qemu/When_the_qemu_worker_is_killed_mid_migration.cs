using Orchestrator.Contracts;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Tests.Qemu;

/// <summary>
/// The worker process (the real <c>orchestrator worker --driver qemu</c> executable) is SIGKILLed while QEMU migrates,
/// then started again: QEMU kept migrating on its own, the redelivered transfer command re-attaches to it, and the
/// migration ends as an uninterrupted one would, with nothing left running that should not be.
/// </summary>
[Trait("Category", "Chaos")]
[Trait("Category", "Qemu")]
[Collection(QemuCollection.Name)]
public sealed class When_the_qemu_worker_is_killed_mid_migration(QemuOrchestrator orchestrator)
{
    const string Source = "qemu-c";
    const string Target = "qemu-d";

    [Fact]
    public async Task Should_follow_the_migration_after_a_restart_to_a_completed_intact_vm()
    {
        const string vm = "vm-worker-killed";
        var worker = StartWorker();
        try
        {
            await using (var client = await PlainAmqpClient.ConnectAsync(orchestrator.Settings.RabbitMq))
                await Eventually.Get(() => client.QueueExists(QueueNames.Worker(HypervisorKinds.Qemu, Source)), up => up,
                    "the worker process to start", TimeSpan.FromSeconds(60));
            await orchestrator.Lab.StartVm(Source, vm, mib: 8, rate: 256);
            // 8 MiB re-dirtied against 16 MiB/s needs about 500 ms of downtime: the ramp (250 ms, then the 1000 ms cap
            // once it stalls) gets there after a few rounds, so the transfer is under way when the worker dies.
            var id = await orchestrator.Migrate(vm, Source, Target, new MigrationPolicy(MaxDowntimeMs: 1000, MaxBandwidthMiBps: 16,
                AllowPostCopy: false, AllowAutoConverge: false));
            await orchestrator.WaitFor(id, s => s.Rounds >= 1 || s.IsTerminal, "a first pre-copy round");

            worker.Kill();
            (await orchestrator.Summary(id))!.State.ShouldBe(MigrationStates.PreCopying);
            worker.Dispose();
            worker = StartWorker();
            var summary = await orchestrator.WaitForEnd(id);

            summary.State.ShouldBe(MigrationStates.Completed, $"{summary.Reason}\n{worker.Output}");
            summary.RunningOn.ShouldBe(Target);
            // The restarted worker followed QEMU's migration under way; it did not start a second one.
            worker.Output.ShouldContain("Following the migration of");
            (await orchestrator.Lab.RunsOn(Target, vm)).IntegrityErrors.ShouldBe(0u);
            orchestrator.Lab.Hosts.IsAlive(Source, vm).ShouldBeFalse("the source QEMU is cleaned up");
            orchestrator.Lab.Hosts.HostsWith(vm).ShouldBe([Target]);
        }
        finally
        {
            worker.Dispose();
        }
    }

    OrchestratorProcess StartWorker() => OrchestratorProcess.Start(new Dictionary<string, string>
    {
        ["ConnectionStrings__Postgres"] = orchestrator.Settings.Postgres,
        ["ConnectionStrings__RabbitMq"] = orchestrator.Settings.RabbitMq,
        ["Worker__HeartbeatInterval"] = "00:00:01",
        ["Qemu__PollInterval"] = "00:00:00.100",
        ["Qemu__TlsDirectory"] = orchestrator.TlsFor(Source, Target),
    }, "worker", "--driver", "qemu", "--host", Source, "--host", Target, "--qemu-root", orchestrator.Lab.Root);
}
