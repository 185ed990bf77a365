using JasperFx.Events;
using JasperFx.Events.Grouping;
using Marten;
using Marten.Events;
using Marten.Events.Projections;
using Orchestrator.Contracts;

namespace Orchestrator.ReadModels.Hosts;

/// <summary>
/// Multi-stream projection, asynchronous (a dashboard figure; several migrations update one host's document, which only
/// the daemon's single writer can do without lost updates). Each event of a migration counts on both of its hosts; the
/// hosts come from the migration's <see cref="MigrationRequested"/>, found in the same batch or read back from the
/// event store (never from another read model, so a rebuild depends on the events alone).
/// </summary>
public sealed partial class HostLoadProjection : MultiStreamProjection<HostLoad, string>
{
    public HostLoadProjection()
    {
        IncludeType<MigrationRequested>();
        IncludeType<MigrationQueued>();
        IncludeType<MigrationAdmitted>();
        IncludeType<MigrationCompleted>();
        IncludeType<MigrationRolledBack>();
        IncludeType<MigrationCancelled>();
        IncludeType<MigrationFailed>();
        IncludeType<MigrationRejected>();
        CustomGrouping(ByHosts);
    }

    static async Task ByHosts(IQuerySession session, IReadOnlyList<IEvent> events, IEventGrouping<string> grouping)
    {
        var hosts = new Dictionary<Guid, (string Source, string Target)>();
        foreach (var requested in events.Select(e => e.Data).OfType<MigrationRequested>())
            hosts[requested.MigrationId] = (requested.SourceHost, requested.TargetHost);
        var missing = events.Select(e => e.StreamId).Where(id => !hosts.ContainsKey(id)).Distinct().ToArray();
        if (missing.Length > 0)
        {
            // By stream id, which the event table indexes: a filter on the event's MigrationId inside its data read every
            // MigrationRequested ever stored, each batch (at 3,000 migrations a scale run's busiest query).
            var earlier = await session.Events.QueryAllRawEvents()
                .Where(e => missing.Contains(e.StreamId) && e.EventTypesAre(typeof(MigrationRequested))).ToListAsync();
            foreach (var requested in earlier.Select(e => e.Data).OfType<MigrationRequested>())
                hosts[requested.MigrationId] = (requested.SourceHost, requested.TargetHost);
        }

        foreach (var e in events)
        {
            // A command rejected before it was accepted never touched a host.
            if (!hosts.TryGetValue(e.StreamId, out var pair))
                continue;
            grouping.AddEvent(pair.Source, e);
            if (pair.Target != pair.Source)
                grouping.AddEvent(pair.Target, e);
        }
    }

    public override HostLoad? Evolve(HostLoad? snapshot, string id, IEvent e)
    {
        var load = snapshot ?? new HostLoad { Id = id };
        switch (e.Data)
        {
            case MigrationRequested requested when load.Migrations.All(m => m.MigrationId != requested.MigrationId):
                var outbound = requested.SourceHost == id;
                load.Migrations.Add(new HostMigration
                {
                    MigrationId = requested.MigrationId,
                    VmId = requested.VmId,
                    Direction = outbound ? HostLoad.Outbound : HostLoad.Inbound,
                    Status = HostLoad.Requested,
                    Since = requested.Timestamp,
                });
                if (outbound)
                    load.TotalOutbound++;
                else
                    load.TotalInbound++;
                break;
            case MigrationQueued queued:
                SetStatus(load, queued.MigrationId, HostLoad.Queued);
                break;
            case MigrationAdmitted admitted:
                SetStatus(load, admitted.MigrationId, HostLoad.Active);
                break;
            case MigrationCompleted or MigrationRolledBack or MigrationCancelled or MigrationFailed or MigrationRejected:
                load.Migrations.RemoveAll(m => m.MigrationId == e.StreamId);
                break;
            default:
                return load;
        }
        load.UpdatedAt = EventTimes.Of(e);
        load.Recount();
        return load;
    }

    static void SetStatus(HostLoad load, Guid migrationId, string status)
    {
        foreach (var migration in load.Migrations.Where(m => m.MigrationId == migrationId))
            migration.Status = status;
    }
}
