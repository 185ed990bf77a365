using System.Text.Json;
using JasperFx;
using Marten;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Migrations;
using static Orchestrator.ReadModels.Tests.StateChanges;

namespace Orchestrator.ReadModels.Tests;

[Trait("Category", "Integration")]
public sealed class When_a_migration_stream_is_projected : IAsyncLifetime
{
    static readonly DateTimeOffset T0 = new(2026, 11, 24, 9, 0, 0, TimeSpan.Zero);
    readonly TestSchema _schema = TestSchema.Create("rm");
    readonly DocumentStore _store;

    public When_a_migration_stream_is_projected() => _store = DocumentStore.For(options =>
    {
        options.Connection(TestServices.Postgres);
        options.DatabaseSchemaName = _schema.Name;
        options.AutoCreateSchemaObjects = AutoCreate.All;
        options.ConfigureReadModels();
    });

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _store.DisposeAsync();
        }
        finally
        {
            await _schema.DisposeAsync();
        }
    }

    static object[] CompletedMigration(Guid id) =>
    [
        new MigrationRequested(id, "vm-7", "host-a", "host-b", HypervisorKinds.Sim, MigrationStrategies.PreCopy,
            new MigrationPolicy(MaxDowntimeMs: 300), "alice", T0),
        new MigrationAdmitted(id, 1, T0.AddMilliseconds(1)), Moved(id, null, MigrationStates.Checking, T0.AddMilliseconds(1)),
        new PreflightPassed(id, 4096, 60, T0.AddMilliseconds(10)), Moved(id, MigrationStates.Checking, MigrationStates.Preparing, T0.AddMilliseconds(10)),
        new TargetPrepared(id, "host-b", 1, T0.AddMilliseconds(20)), Moved(id, MigrationStates.Preparing, MigrationStates.PreCopying, T0.AddMilliseconds(20)),
        new PreCopyRoundCompleted(id, 1, 4096, 1024, 100, 1000, 1024.0, T0.AddMilliseconds(30)),
        new PreCopyRoundCompleted(id, 2, 1024, 64, 100, 1000, 64.0, T0.AddMilliseconds(40)),
        new StopAndCopyCompleted(id, 61.5, 64, T0.AddMilliseconds(50)),
        Moved(id, MigrationStates.PreCopying, MigrationStates.SwitchingOver, T0.AddMilliseconds(50)),
        new SwitchoverCompleted(id, "host-b", 5184, T0.AddMilliseconds(51)),
        Moved(id, MigrationStates.SwitchingOver, MigrationStates.CleaningUp, T0.AddMilliseconds(51)),
        new SourceCleanedUp(id, "host-a", T0.AddMilliseconds(60)),
        new MigrationCompleted(id, "vm-7", "host-b", 61.5, 60, T0.AddMilliseconds(60)),
        Moved(id, MigrationStates.CleaningUp, MigrationStates.Completed, T0.AddMilliseconds(60)),
    ];

    [Fact]
    public async Task Should_show_the_outcome_the_events_describe()
    {
        var id = Guid.NewGuid();
        await using (var session = _store.LightweightSession())
        {
            session.Events.StartStream(id, CompletedMigration(id));
            await session.SaveChangesAsync();
        }

        await using var query = _store.QuerySession();
        var summary = await query.Summary(id);

        summary.ShouldNotBeNull();
        summary.State.ShouldBe(MigrationStates.Completed);
        summary.RunningOn.ShouldBe("host-b");
        summary.Rounds.ShouldBe(2);
        summary.BytesTransferred.ShouldBe(4096 + 1024 + 64);
        summary.DowntimeMs.ShouldBe(61.5);
        summary.RequestedBy.ShouldBe("alice");
        summary.EndedAt.ShouldBe(T0.AddMilliseconds(60));
        summary.LastEventVersion.ShouldBe(16);
    }

    [Fact]
    public async Task Should_rebuild_from_the_stream_exactly_what_was_stored()
    {
        var id = Guid.NewGuid();
        await using (var session = _store.LightweightSession())
        {
            session.Events.StartStream(id, CompletedMigration(id));
            await session.SaveChangesAsync();
        }

        await using var query = _store.QuerySession();
        var stored = await query.Summary(id);
        var rebuilt = await query.Events.AggregateStreamAsync<MigrationSummary>(id);

        JsonSerializer.Serialize(rebuilt).ShouldBe(JsonSerializer.Serialize(stored));
    }

    [Fact]
    public async Task Should_show_a_rejection_with_its_reason()
    {
        var id = Guid.NewGuid();
        await using (var session = _store.LightweightSession())
        {
            session.Events.StartStream(id, new MigrationRejected(id, "vm-8", RejectionCodes.VmBusy, "VM 'vm-8' already has an active migration.", T0),
                Moved(id, null, MigrationStates.Rejected, T0));
            await session.SaveChangesAsync();
        }

        await using var query = _store.QuerySession();
        var summary = await query.Summary(id);

        summary!.State.ShouldBe(MigrationStates.Rejected);
        summary.IsTerminal.ShouldBeTrue();
        summary.RejectionCode.ShouldBe(RejectionCodes.VmBusy);
        summary.Reason.ShouldBe("VM 'vm-8' already has an active migration.");
    }
}
