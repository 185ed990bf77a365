using JasperFx.Events;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Attention;
using Orchestrator.ReadModels.Hosts;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.ReadModels.Tests;

/// <summary>
/// The dashboards stamp what they show with the time each event says it happened, never the time the store took it in:
/// the two differ by the saga's latency, and by hours for a history that was imported or replayed.
/// </summary>
public sealed class When_dashboards_take_time_from_the_events
{
    static readonly DateTimeOffset Happened = new(2026, 11, 24, 9, 0, 0, TimeSpan.Zero);
    static readonly DateTimeOffset StoredAt = Happened.AddHours(3);
    static readonly Guid Id = Guid.NewGuid();

    /// <summary>The event as the store hands it over: taken in some hours after it happened.</summary>
    static IEvent Stored<T>(T data)
        where T : notnull =>
        new Event<T>(data) { StreamId = Id, Timestamp = StoredAt };

    [Fact]
    public void Should_include_only_events_that_carry_their_own_time()
    {
        var included = new AttentionProjection().IncludedEventTypes.Concat(new HostLoadProjection().IncludedEventTypes).ToList();

        included.ShouldNotBeEmpty();
        included.Where(t => !typeof(IMigrationEvent).IsAssignableFrom(t)).ShouldBeEmpty();
    }

    [Fact]
    public void Should_stamp_each_step_of_a_recovery_with_the_time_it_happened()
    {
        var projection = new AttentionProjection();
        var item = projection.Evolve(null, Id, Stored(new MigrationRequested(Id, "vm-1", "host-a", "host-b", HypervisorKinds.Sim,
            MigrationStrategies.PreCopy, new MigrationPolicy(), null, Happened)));
        item = projection.Evolve(item, Id, Stored(new MigrationFailed(Id, "lost", null, Happened.AddMinutes(1))));

        foreach (var (step, at) in new (object, DateTimeOffset)[]
        {
            (new MigrationRecoveryStarted(Id, MigrationStates.Failed, 2, "alice", Happened.AddMinutes(2)), Happened.AddMinutes(2)),
            (new VmLocated(Id, "host-a", "vm-1", VmPresences.Running, "running", Happened.AddMinutes(3), 2), Happened.AddMinutes(3)),
            (new MigrationReconciled(Id, MigrationStates.Failed, VmPresences.Running, VmPresences.Absent, RecoveryVerdicts.RollBack, "runs on host-a",
                "alice", Happened.AddMinutes(4)), Happened.AddMinutes(4)),
        })
        {
            item = projection.Evolve(item, Id, Stored(step));

            item!.LastEventAt.ShouldBe(at, step.GetType().Name);
        }
    }

    [Fact]
    public void Should_stamp_a_host_s_load_with_the_time_it_changed()
    {
        var load = new HostLoadProjection().Evolve(null, "host-a", Stored(new MigrationRequested(Id, "vm-1", "host-a", "host-b",
            HypervisorKinds.Sim, MigrationStrategies.PreCopy, new MigrationPolicy(), null, Happened)));

        load!.UpdatedAt.ShouldBe(Happened);
    }
}
