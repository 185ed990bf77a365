using System.Collections.Concurrent;
using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Workflows.Tests;

/// <summary>
/// A VM with local disks: the pre-flight check says how big they are, the target says where it exports them, the source
/// gets that address with the policy's mirror deadline, and the mirror's reports are recorded in the order the worker
/// made them and shown in the summary. A mirror the worker gave up (its deadline passed) rolls the migration back with
/// the worker's reason.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_a_migration_mirrors_local_disks
{
    const long Disk = 64L << 20;
    const string Export = "nbd://10.1.2.4:49200";

    [Fact]
    public async Task Should_send_the_export_and_deadline_to_the_source_and_record_the_mirror_in_the_order_made()
    {
        await using var orchestrator = await InMemoryOrchestrator.StartAsync();
        var (id, commands) = await StartToTransfer(orchestrator, "vm-disk-ok", new MigrationPolicy(DiskMirrorDeadlineSeconds: 90));
        var transfer = await Eventually.Get(() => Task.FromResult(commands.OfType<BeginTransfer>().FirstOrDefault()), t => t is not null, "BeginTransfer");
        transfer!.DiskExportUri.ShouldBe(Export);
        transfer.DiskMirrorDeadlineSeconds.ShouldBe(90);

        // Sent out of order: the saga records them as the worker numbered them.
        var now = DateTimeOffset.UtcNow;
        await orchestrator.Send(QueueNames.MigrationSaga, new DiskMirrorReady(id, Disk, 2100, now, 4), id);
        await orchestrator.Send(QueueNames.MigrationSaga, new DiskMirrorProgress(id, 40L << 20, 24L << 20, now, 3), id);
        await orchestrator.Send(QueueNames.MigrationSaga, new DiskMirrorProgress(id, 20L << 20, 44L << 20, now, 2), id);
        await orchestrator.Send(QueueNames.MigrationSaga, new DiskMirrorStarted(id, 1, Disk, now, 1), id);
        var events = await Eventually.Get(() => orchestrator.Events(id), e => e.OfType<DiskMirrorReady>().Any(), "the mirror on the stream");

        events.OfType<ISequencedReport>().Where(e => e.GetType().Name.StartsWith("DiskMirror", StringComparison.Ordinal))
            .Select(e => e.Sequence).ShouldBe([1, 2, 3, 4]);
        var summary = (await orchestrator.WaitFor(id, s => s.DiskMirrorReadyMs is not null, "the summary to show the mirror ready"))!;
        summary.DiskBytes.ShouldBe(Disk);
        summary.DiskBytesMirrored.ShouldBe(Disk);
        summary.DiskMirrorReadyMs.ShouldBe(2100);
        summary.State.ShouldBe(MigrationStates.PreCopying);
    }

    [Fact]
    public async Task Should_roll_back_with_the_workers_reason_when_the_mirror_misses_its_deadline()
    {
        await using var orchestrator = await InMemoryOrchestrator.StartAsync();
        var (id, commands) = await StartToTransfer(orchestrator, "vm-disk-late", new MigrationPolicy(DiskMirrorDeadlineSeconds: 2));
        await Eventually.Get(() => Task.FromResult(commands.OfType<BeginTransfer>().Any()), sent => sent, "BeginTransfer");
        var now = DateTimeOffset.UtcNow;
        await orchestrator.Send(QueueNames.MigrationSaga, new DiskMirrorStarted(id, 1, Disk, now, 1), id);
        const string reason = "The mirror of VM 'vm-disk-late''s disks to 'disk-dst' was not ready within 2 s (the policy's disk mirror deadline)";
        await orchestrator.Send(QueueNames.MigrationSaga, new MigrationStepFailed(id, MigrationSteps.Transfer, reason, "disk-src", now), id);
        await Eventually.Get(() => Task.FromResult(commands.OfType<AbortTransfer>().Any()), sent => sent, "AbortTransfer to the source");

        await orchestrator.Send(QueueNames.MigrationSaga, new MigrationAborted(id, "disk-src", now), id);
        await Eventually.Get(() => Task.FromResult(commands.OfType<DestroyTarget>().Any()), sent => sent, "DestroyTarget to the target");
        await orchestrator.Send(QueueNames.MigrationSaga, new TargetDestroyed(id, "disk-dst", now), id);
        var summary = (await orchestrator.WaitForEnd(id))!;

        summary.State.ShouldBe(MigrationStates.RolledBack);
        summary.Reason.ShouldNotBeNull().ShouldContain("disk mirror deadline");
        summary.RunningOn.ShouldBe("disk-src");
    }

    /// <summary>Hosts no worker serves: the test plays both workers, keeps their commands, and walks the migration into its transfer.</summary>
    static async Task<(Guid Id, ConcurrentQueue<object> Commands)> StartToTransfer(InMemoryOrchestrator orchestrator, string vm, MigrationPolicy policy)
    {
        var commands = new ConcurrentQueue<object>();
        foreach (var host in new[] { "disk-src", "disk-dst" })
        {
            var endpoint = orchestrator.Bus.ConnectReceiveEndpoint(QueueNames.Worker(HypervisorKinds.Sim, host), e =>
            {
                e.Handler<BeginTransfer>(context => Keep(context.Message));
                e.Handler<AbortTransfer>(context => Keep(context.Message));
                e.Handler<DestroyTarget>(context => Keep(context.Message));
            });
            await endpoint.Ready;
        }
        Task Keep(object command)
        {
            commands.Enqueue(command);
            return Task.CompletedTask;
        }
        var command = InMemoryOrchestrator.NewMigration(vm, source: "disk-src", target: "disk-dst", policy: policy);
        var id = command.MigrationId;
        await orchestrator.Start(command);
        await orchestrator.WaitFor(id, s => s.State == MigrationStates.Checking, "the pre-flight check");
        await orchestrator.Send(QueueNames.MigrationSaga, new PreflightPassed(id, 64L << 20, 100, DateTimeOffset.UtcNow, DiskBytes: Disk), id);
        await orchestrator.WaitFor(id, s => s.State == MigrationStates.Preparing, "the target's preparation");
        await orchestrator.Send(QueueNames.MigrationSaga, new TargetPrepared(id, "disk-dst", 1, DateTimeOffset.UtcNow, "tcp:10.1.2.4:49152", Export), id);
        await orchestrator.WaitFor(id, s => s.State == MigrationStates.PreCopying, "the transfer");
        return (id, commands);
    }
}
