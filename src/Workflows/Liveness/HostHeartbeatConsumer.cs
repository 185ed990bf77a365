using Marten;
using MassTransit;
using Npgsql;
using NpgsqlTypes;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workflows.Resilience;

namespace Orchestrator.Workflows.Liveness;

/// <summary>
/// One statement per heartbeat: the liveness of every transfer it names (a worker's, for all its hosts, or one host's
/// from an earlier worker), outside any saga.
/// </summary>
/// <remarks>
/// A set-based upsert (the sightings as arrays, unnested) instead of one Marten upsert per transfer: with 10,000
/// transfers in flight the workers name about 2,000 a second, and a statement (and a new document version) each cost
/// PostgreSQL and this process more than the saga could spare. The rows stay <see cref="TransferLiveness"/> documents,
/// serialized by the store. A sighting older than the stored one (a heartbeat that waited in the queue behind a later
/// one) changes nothing.
/// </remarks>
public sealed class HostHeartbeatConsumer(IDocumentStore store) : IConsumer<HostHeartbeat>, IConsumer<WorkerHeartbeat>
{
    public Task Consume(ConsumeContext<HostHeartbeat> context) => Write([context.Message], context.CancellationToken);

    public Task Consume(ConsumeContext<WorkerHeartbeat> context) => Write(context.Message.Hosts, context.CancellationToken);

    async Task Write(IReadOnlyList<HostHeartbeat> hosts, CancellationToken cancellationToken)
    {
        // A transfer named twice (a report racing its move to another host) keeps its latest sighting: one row each, as
        // an upsert must have.
        var liveness = hosts.SelectMany(beat => beat.MigrationIds.Select(id => new TransferLiveness { Id = id, Host = beat.Host, SeenAt = beat.Timestamp }))
            .GroupBy(transfer => transfer.Id, (_, sightings) => sightings.MaxBy(transfer => transfer.SeenAt)!).ToArray();
        if (liveness.Length == 0)
            return;
        var database = store.Storage.Database;
        await database.EnsureStorageExistsAsync(typeof(TransferLiveness), cancellationToken);
        var serializer = store.Options.Serializer();
        await using var connection = database.CreateConnection();
        await connection.OpenAsync(cancellationToken);
        await using var upsert = new NpgsqlCommand(
            $"""
            insert into {store.Options.DatabaseSchemaName}.mt_doc_transferliveness as stored (id, data, mt_version, mt_dotnet_type, mt_last_modified, seen_at)
            select sighting.id, sighting.data, gen_random_uuid(), $4, transaction_timestamp(), sighting.seen_at
            from unnest($1::uuid[], $2::jsonb[], $3::timestamptz[]) as sighting(id, data, seen_at)
            on conflict (id) do update set data = excluded.data, mt_version = excluded.mt_version, mt_last_modified = excluded.mt_last_modified,
              seen_at = excluded.seen_at
            where excluded.seen_at > stored.seen_at
            """, connection);
        upsert.Parameters.Add(new NpgsqlParameter { Value = liveness.Select(l => l.Id).ToArray() });
        upsert.Parameters.Add(new NpgsqlParameter { Value = liveness.Select(serializer.ToJson).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
        upsert.Parameters.Add(new NpgsqlParameter { Value = liveness.Select(l => l.SeenAt).ToArray() });
        upsert.Parameters.Add(new NpgsqlParameter { Value = DotNetType });
        await upsert.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>What Marten writes in a document's <c>mt_dotnet_type</c> column.</summary>
    static readonly string DotNetType = typeof(TransferLiveness).FullName!;
}

/// <summary>
/// The liveness queue: no inbox (a heartbeat applied twice changes nothing), database outages waited out; a heartbeat
/// older than the one after it is worth nothing, so they are consumed many at a time.
/// </summary>
public sealed class HostHeartbeatDefinition : ConsumerDefinition<HostHeartbeatConsumer>
{
    public HostHeartbeatDefinition() => EndpointName = QueueNames.Liveness;

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<HostHeartbeatConsumer> consumerConfigurator, IRegistrationContext context)
    {
        endpointConfigurator.UseTransientFaultRetry(context);
    }
}
