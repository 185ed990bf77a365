using JasperFx;
using Marten;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Audit;
using Orchestrator.ReadModels.Migrations;
using static Orchestrator.ReadModels.Tests.StateChanges;

namespace Orchestrator.ReadModels.Tests;

/// <summary>
/// Streams written before the saga recorded its state changes: the summary stored then stays as it was and goes on from
/// there; only a rebuild or a replay of such a stream cannot show the states it never recorded (the README says so).
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_a_stream_predates_recorded_state_changes : IAsyncLifetime
{
    static readonly DateTimeOffset T0 = new(2026, 11, 24, 9, 0, 0, TimeSpan.Zero);
    readonly Guid _id = Guid.NewGuid();
    readonly TestSchema _schema = TestSchema.Create("legacy");
    readonly DocumentStore _store;

    public When_a_stream_predates_recorded_state_changes() => _store = DocumentStore.For(options =>
    {
        options.Connection(TestServices.Postgres);
        options.DatabaseSchemaName = _schema.Name;
        options.AutoCreateSchemaObjects = AutoCreate.All;
        options.ConfigureReadModels();
    });

    /// <summary>An old stream up to pre-copy, and its summary as the projection of that time stored it.</summary>
    public async ValueTask InitializeAsync()
    {
        await using var session = _store.LightweightSession();
        session.Events.StartStream(_id,
            new MigrationRequested(_id, "vm-old", "host-a", "host-b", HypervisorKinds.Sim, MigrationStrategies.PreCopy, new MigrationPolicy(), "alice", T0),
            new MigrationAdmitted(_id, 1, T0), new PreflightPassed(_id, 4096, 60, T0), new TargetPrepared(_id, "host-b", 1, T0),
            new PreCopyRoundCompleted(_id, 1, 4096, 64, 100, 1000, 64.0, T0.AddSeconds(1)));
        await session.SaveChangesAsync();
        await using var old = _store.LightweightSession();
        var stored = (await old.Summary(_id))!;
        stored.State = MigrationStates.PreCopying;
        old.Store(stored);
        await old.SaveChangesAsync();
    }

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

    [Fact]
    public async Task Should_go_on_from_the_stored_summary_when_its_next_transition_is_recorded()
    {
        await using (var session = _store.LightweightSession())
        {
            session.Events.Append(_id, new StopAndCopyCompleted(_id, 12.5, 64, T0.AddSeconds(2)),
                Moved(_id, MigrationStates.PreCopying, MigrationStates.SwitchingOver, T0.AddSeconds(2)));
            await session.SaveChangesAsync();
        }

        await using var query = _store.QuerySession();
        var summary = (await query.Summary(_id))!;
        summary.State.ShouldBe(MigrationStates.SwitchingOver);
        (summary.Rounds, summary.BytesTransferred, summary.DowntimeMs, summary.LastEventVersion).ShouldBe((1, 4096 + 64, 12.5, 7));
    }

    [Fact]
    public async Task Should_replay_it_in_the_state_it_was_requested_in()
    {
        await using var query = _store.QuerySession();

        var replayed = (await MigrationReplay.AsOf(query, _id))!;

        replayed.State.ShouldBe(MigrationStates.Requested);
        replayed.Rounds.ShouldBe(1);
    }
}
