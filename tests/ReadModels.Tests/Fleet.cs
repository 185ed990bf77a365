using JasperFx;
using JasperFx.Events.Daemon;
using Marten;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Migrations;
using static Orchestrator.ReadModels.Tests.StateChanges;

namespace Orchestrator.ReadModels.Tests;

/// <summary>
/// A small fleet written as the saga writes it, in a schema of its own: running, queued, completed, failed (VM lost,
/// rollback failed), quiet for two hours, and rejected migrations on three hosts.
/// </summary>
public sealed class Fleet : IAsyncDisposable
{
    public const long GiB = 1L << 30;
    public static readonly MigrationPolicy Policy = new(MaxDowntimeMs: 300);
    public readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    readonly TestSchema _schema = TestSchema.Create("fleet");

    Fleet() => Store = DocumentStore.For(options =>
    {
        options.Connection(TestServices.Postgres);
        options.DatabaseSchemaName = _schema.Name;
        options.AutoCreateSchemaObjects = AutoCreate.All;
        options.ConfigureReadModels();
    });

    public DocumentStore Store { get; }

    public Guid Running { get; } = Guid.NewGuid();
    public Guid Queued { get; } = Guid.NewGuid();
    public Guid Completed1 { get; } = Guid.NewGuid();
    public Guid Completed2 { get; } = Guid.NewGuid();
    public Guid CompletedQemu { get; } = Guid.NewGuid();
    public Guid VmLost { get; } = Guid.NewGuid();
    public Guid RollbackFailed { get; } = Guid.NewGuid();
    public Guid Stuck { get; } = Guid.NewGuid();
    public Guid Rejected { get; } = Guid.NewGuid();

    static MigrationRequested Requested(Guid id, string source, string target, DateTimeOffset at, string hypervisor = HypervisorKinds.Sim,
        string strategy = MigrationStrategies.PreCopy) =>
        new(id, $"vm-{id:N}"[..11], source, target, hypervisor, strategy, Policy, "fleet-test", at);

    object[] Completed(Guid id, string source, string target, DateTimeOffset at, double downtimeMs, double durationMs, long memory,
        string hypervisor = HypervisorKinds.Sim, string strategy = MigrationStrategies.PreCopy) =>
    [
        Requested(id, source, target, at, hypervisor, strategy),
        new MigrationAdmitted(id, 1, at), Moved(id, null, MigrationStates.Checking, at),
        new PreflightPassed(id, memory, downtimeMs, at.AddMilliseconds(1)),
        Moved(id, MigrationStates.Checking, MigrationStates.Preparing, at.AddMilliseconds(1)),
        new TargetPrepared(id, target, 1, at.AddMilliseconds(2)),
        Moved(id, MigrationStates.Preparing, MigrationStates.PreCopying, at.AddMilliseconds(2)),
        new PreCopyRoundCompleted(id, 1, memory, 1024, 100, 1000, downtimeMs, at.AddMilliseconds(durationMs / 2)),
        new StopAndCopyCompleted(id, downtimeMs, 1024, at.AddMilliseconds(durationMs - 2)),
        Moved(id, MigrationStates.PreCopying, MigrationStates.SwitchingOver, at.AddMilliseconds(durationMs - 2)),
        new SwitchoverCompleted(id, target, memory + 1024, at.AddMilliseconds(durationMs - 1)),
        Moved(id, MigrationStates.SwitchingOver, MigrationStates.CleaningUp, at.AddMilliseconds(durationMs - 1)),
        new SourceCleanedUp(id, source, at.AddMilliseconds(durationMs)),
        new MigrationCompleted(id, $"vm-{id:N}"[..11], target, downtimeMs, durationMs, at.AddMilliseconds(durationMs)),
        Moved(id, MigrationStates.CleaningUp, MigrationStates.Completed, at.AddMilliseconds(durationMs)),
    ];

    /// <summary>Admitted, checked and prepared at <paramref name="at"/>: the migration is pre-copying.</summary>
    static object[] UpToPreCopying(Guid id, string source, string target, DateTimeOffset at, long memory) =>
    [
        Requested(id, source, target, at), new MigrationAdmitted(id, 1, at), Moved(id, null, MigrationStates.Checking, at),
        new PreflightPassed(id, memory, 50, at), Moved(id, MigrationStates.Checking, MigrationStates.Preparing, at),
        new TargetPrepared(id, target, 1, at), Moved(id, MigrationStates.Preparing, MigrationStates.PreCopying, at),
    ];

    public async Task Write()
    {
        var recent = Now.AddMinutes(-1);
        var hourAgo = Now.AddHours(-1);
        var streams = new Dictionary<Guid, object[]>
        {
            [Running] =
            [
                .. UpToPreCopying(Running, "host-a", "host-b", recent, 4 * GiB),
                new PreCopyRoundCompleted(Running, 1, GiB, 3 * GiB, 100, 1000, 900, recent.AddSeconds(5)),
            ],
            [Queued] =
            [
                Requested(Queued, "host-a", "host-c", recent), new MigrationQueued(Queued, 1, "host-a has 2 outbound migrations", recent),
                Moved(Queued, null, MigrationStates.Queued, recent),
            ],
            [Completed1] = Completed(Completed1, "host-b", "host-a", hourAgo, downtimeMs: 100, durationMs: 4000, memory: 2 * GiB),
            [Completed2] = Completed(Completed2, "host-b", "host-c", hourAgo, downtimeMs: 300, durationMs: 8000, memory: 2 * GiB),
            [CompletedQemu] = Completed(CompletedQemu, "host-c", "host-a", hourAgo, downtimeMs: 20, durationMs: 1000, memory: GiB,
                HypervisorKinds.Qemu, MigrationStrategies.PostCopy),
            [VmLost] =
            [
                .. UpToPreCopying(VmLost, "host-c", "host-b", hourAgo, GiB),
                new PostCopyStarted(VmLost, "host-b", GiB / 2, hourAgo.AddSeconds(1)),
                Moved(VmLost, MigrationStates.PreCopying, MigrationStates.PostCopying, hourAgo.AddSeconds(1)),
                new MigrationStepFailed(VmLost, MigrationSteps.PostCopy, "connection to host-c lost", null, hourAgo.AddSeconds(2)),
                new MigrationFailed(VmLost, "Post-copy failed: the VM's memory is split between host-c and host-b.", null, hourAgo.AddSeconds(2)),
                Moved(VmLost, MigrationStates.PostCopying, MigrationStates.Failed, hourAgo.AddSeconds(2)),
            ],
            [RollbackFailed] =
            [
                .. UpToPreCopying(RollbackFailed, "host-a", "host-c", hourAgo, GiB),
                new MigrationRollingBack(RollbackFailed, "transfer failed", false, hourAgo.AddSeconds(1)),
                Moved(RollbackFailed, MigrationStates.PreCopying, MigrationStates.RollingBack, hourAgo.AddSeconds(1)),
                new MigrationFailed(RollbackFailed, "Rollback failed: the transfer could not be stopped on host-a.", "host-a", hourAgo.AddSeconds(3)),
                Moved(RollbackFailed, MigrationStates.RollingBack, MigrationStates.Failed, hourAgo.AddSeconds(3)),
            ],
            [Stuck] =
            [
                Requested(Stuck, "host-b", "host-c", Now.AddHours(-2)), new MigrationAdmitted(Stuck, 1, Now.AddHours(-2)),
                Moved(Stuck, null, MigrationStates.Checking, Now.AddHours(-2)),
            ],
            [Rejected] =
            [
                new MigrationRejected(Rejected, "vm-bad", RejectionCodes.InvalidCommand, "targetHost equals sourceHost.", recent),
                Moved(Rejected, null, MigrationStates.Rejected, recent),
            ],
        };
        foreach (var (id, events) in streams)
        {
            await using var session = Store.LightweightSession();
            session.Events.StartStream(id, events);
            await session.SaveChangesAsync();
        }
    }

    /// <summary>Runs the asynchronous projections until they have seen every event.</summary>
    public async Task CatchUp()
    {
        using var daemon = await Store.BuildProjectionDaemonAsync();
        await daemon.CatchUpAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
    }

    public static async Task<Fleet> Projected()
    {
        var fleet = new Fleet();
        try
        {
            await fleet.Write();
            await fleet.CatchUp();
        }
        catch
        {
            await fleet.DisposeAsync();
            throw;
        }
        return fleet;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Store.DisposeAsync();
        }
        finally
        {
            await _schema.DisposeAsync();
        }
    }
}
