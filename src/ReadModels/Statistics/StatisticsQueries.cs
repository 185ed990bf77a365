using Marten;
using Npgsql;
using NpgsqlTypes;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.ReadModels.Statistics;

/// <summary>
/// Fleet statistics as a query over the migration summaries, not a projection: the filters (hypervisor, strategy, any
/// time range) and exact percentiles need the individual migrations, and PostgreSQL computes them where the summaries
/// are, in one pass, with no second copy that could drift.
/// </summary>
public static class StatisticsQueries
{
    public static async Task<FleetStatistics> Statistics(this IDocumentStore store, StatisticsFilter filter, CancellationToken cancellationToken = default)
    {
        var mapping = store.Options.FindOrResolveDocumentType(typeof(MigrationSummary));
        var field = (string name) => mapping.Casing == Weasel.Core.Casing.CamelCase ? char.ToLowerInvariant(name[0]) + name[1..] : name;
        var summaries = $"""
            with s as (
              select data->>'{field(nameof(MigrationSummary.Hypervisor))}' as hypervisor,
                     data->>'{field(nameof(MigrationSummary.Strategy))}' as strategy,
                     data->>'{field(nameof(MigrationSummary.State))}' as state,
                     (data->>'{field(nameof(MigrationSummary.DowntimeMs))}')::float8 as downtime,
                     (data->>'{field(nameof(MigrationSummary.DurationMs))}')::float8 as duration,
                     coalesce((data->>'{field(nameof(MigrationSummary.MemoryBytes))}')::float8,
                              nullif((data->>'{field(nameof(MigrationSummary.BytesTransferred))}')::float8, 0)) as bytes
              from {mapping.TableName.QualifiedName}
              where ($1::text is null or data->>'{field(nameof(MigrationSummary.Hypervisor))}' = $1)
                and ($2::text is null or data->>'{field(nameof(MigrationSummary.Strategy))}' = $2)
                and ($3::timestamptz is null or (data->>'{field(nameof(MigrationSummary.RequestedAt))}')::timestamptz >= $3)
                and ($4::timestamptz is null or (data->>'{field(nameof(MigrationSummary.RequestedAt))}')::timestamptz < $4))
            """;

        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellationToken);

        var states = new Dictionary<string, int>();
        await using (var command = Command(connection, $"{summaries} select state, count(*)::int from s group by state order by state", filter))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
                states[reader.GetString(0)] = reader.GetInt32(1);
        }

        var completed = new List<CompletedStatistics>();
        var groups = $"""
            {summaries}
            select hypervisor, strategy, grouping(hypervisor, strategy), count(*)::int,
                   percentile_cont(0.5) within group (order by downtime),
                   percentile_cont(0.9) within group (order by downtime),
                   percentile_cont(0.99) within group (order by downtime),
                   sum(duration) filter (where bytes is not null) / 1000.0
                     / nullif(sum(bytes) filter (where duration is not null) / 1073741824.0, 0)
            from s where state = '{MigrationStates.Completed}'
            group by grouping sets ((hypervisor, strategy), (hypervisor), (strategy), ())
            order by 3, 1, 2
            """;
        await using (var command = Command(connection, groups, filter))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var grouping = reader.GetInt32(2);
                completed.Add(new CompletedStatistics(
                    (grouping & 2) == 0 ? reader.GetString(0) : null,
                    (grouping & 1) == 0 ? reader.GetString(1) : null,
                    reader.GetInt32(3), Nullable(reader, 4), Nullable(reader, 5), Nullable(reader, 6), Nullable(reader, 7)));
            }
        }
        // With no completed migration, the grand total line is still there: drop it, there is nothing to say.
        completed.RemoveAll(c => c.Completed == 0);
        return new FleetStatistics(filter, states.Values.Sum(), states, completed);
    }

    static NpgsqlCommand Command(NpgsqlConnection connection, string sql, StatisticsFilter filter)
    {
        var command = new NpgsqlCommand(sql, connection);
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)filter.Hypervisor ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)filter.Strategy ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = (object?)filter.Since?.UtcDateTime ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = (object?)filter.Until?.UtcDateTime ?? DBNull.Value });
        return command;
    }

    static double? Nullable(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetDouble(ordinal);
}
