using Npgsql;

namespace Orchestrator.Workers.Sim;

/// <summary>
/// Where <see cref="SharedSimFleet"/> keeps the fleet: three tables in <paramref name="schema"/>, created on first use
/// (under an advisory lock, so workers starting together do not race), with the VMs of <c>Sim:Placements</c> placed where
/// no VM of that id is yet: a worker that starts again never moves a VM back.
/// </summary>
public sealed class SharedSimFleetTables(string connectionString, string schema, IReadOnlyDictionary<string, string> placements) : IAsyncDisposable
{
    // Each change holds a connection for a statement or two: a small pool serves thousands of transfers, and ten workers
    // on one database stay well within its connections (a wait for one beyond the pool's timeout is retried as an outage).
    readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = 16 }.ConnectionString);
    readonly SemaphoreSlim _creating = new(1, 1);
    volatile bool _created;

    /// <summary>VM id → the host running it.</summary>
    public string Vms { get; } = $"{Quote(schema)}.sim_vms";

    /// <summary>Prepared destinations, each with the VM whose memory it holds and the passes its transfer sent.</summary>
    public string Targets { get; } = $"{Quote(schema)}.sim_targets";

    /// <summary>Every host the fleet has seen: the row a preparation locks, and when the host died.</summary>
    public string Hosts { get; } = $"{Quote(schema)}.sim_hosts";

    public async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (!_created)
            await Create(cancellationToken);
        return await _dataSource.OpenConnectionAsync(cancellationToken);
    }

    async Task Create(CancellationToken cancellationToken)
    {
        await _creating.WaitAsync(cancellationToken);
        try
        {
            for (var attempt = 1; !_created; attempt++)
            {
                try
                {
                    await CreateOnce(cancellationToken);
                    _created = true;
                }
                // Another process (serve, through Marten) created the schema at the same moment: it is there now.
                catch (PostgresException exception) when (exception.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateSchema
                    && attempt < 3)
                {
                }
            }
        }
        finally
        {
            _creating.Release();
        }
    }

    async Task CreateOnce(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("select pg_advisory_xact_lock(hashtext('orchestrator-sim-fleet:' || $1))") { Parameters = { new() { Value = schema } } },
                new NpgsqlBatchCommand($"create schema if not exists {Quote(schema)}"),
                new NpgsqlBatchCommand($"create table if not exists {Vms} (vm_id text primary key, host text not null)"),
                new NpgsqlBatchCommand($"create index if not exists sim_vms_host on {Vms} (host)"),
                new NpgsqlBatchCommand($"""
                    create table if not exists {Targets} (migration_id uuid primary key, vm_id text not null, host text not null,
                        passes integer not null default 0, prepared_at timestamptz not null default now())
                    """),
                new NpgsqlBatchCommand($"create index if not exists sim_targets_host on {Targets} (host)"),
                new NpgsqlBatchCommand($"create table if not exists {Hosts} (host text primary key, down_since timestamptz)"),
                new NpgsqlBatchCommand($"insert into {Vms} (vm_id, host) select * from unnest($1::text[], $2::text[]) on conflict (vm_id) do nothing")
                {
                    Parameters = { new() { Value = placements.Keys.ToArray() }, new() { Value = placements.Values.ToArray() } },
                },
            },
        };
        await batch.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _creating.Dispose();
        await _dataSource.DisposeAsync();
    }

    static string Quote(string identifier) => $"\"{identifier.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
}
