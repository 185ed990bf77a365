using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Orchestrator.Workers.Sim;

/// <summary>
/// The simulated world in PostgreSQL (tables <c>sim_vms</c>, <c>sim_targets</c>, <c>sim_hosts</c> in the orchestrator's
/// schema), shared by every sim worker process on that database: a destination one worker prepares is seen by the
/// source's worker, a restarted worker finds its VMs where they were, and a target's promised memory is counted by every
/// pre-flight. Nothing is lost to two workers writing at once: each change is one statement or one transaction, and a
/// preparation holds its host's row lock while it checks the host's room and promises it.
/// <para>
/// PostgreSQL errors that say it is away for now (a restart, a network blip) are waited out, with backoff, for up to the
/// outage budget; dead hosts are read at most once a second.
/// </para>
/// </summary>
public sealed class SharedSimFleet(SharedSimFleetTables tables, TimeSpan outageBudget, ILogger<SharedSimFleet> logger) : ISimFleet
{
    static readonly TimeSpan DeadHostsFreshFor = TimeSpan.FromSeconds(1);
    static readonly TimeSpan LongestWait = TimeSpan.FromSeconds(5);
    readonly SemaphoreSlim _deadHostsRead = new(1, 1);
    volatile DeadHosts _deadHosts = new(new HashSet<string>(StringComparer.Ordinal), DateTime.MinValue);
    int _outage;

    public Task<string?> WhereIsAsync(string vmId, CancellationToken cancellationToken) =>
        Run(async connection => await Scalar<string>(connection, $"select host from {tables.Vms} where vm_id = $1", cancellationToken, vmId),
            cancellationToken);

    public Task<string> RunningOnOrPlaceAsync(string vmId, string host, CancellationToken cancellationToken) => Run(async connection =>
    {
        if (await Scalar<string>(connection, $"select host from {tables.Vms} where vm_id = $1", cancellationToken, vmId) is { } runningOn)
            return runningOn;
        await Execute(connection, $"insert into {tables.Vms} (vm_id, host) values ($1, $2) on conflict (vm_id) do nothing", cancellationToken, vmId, host);
        return (await Scalar<string>(connection, $"select host from {tables.Vms} where vm_id = $1", cancellationToken, vmId))!;
    }, cancellationToken);

    public Task<SimHostLoad> LoadAsync(string host, CancellationToken cancellationToken) =>
        Run(connection => Load(connection, host, cancellationToken), cancellationToken);

    public Task<string?> PrepareTargetAsync(Guid migrationId, string vmId, string host, Func<SimHostLoad, string?> refuse,
        CancellationToken cancellationToken) => Run(async connection =>
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // The host's row lock: preparations for one host take turns, so two never promise the same free memory.
        await Execute(connection, $"insert into {tables.Hosts} (host) values ($1) on conflict (host) do nothing", cancellationToken, host);
        await Execute(connection, $"select 1 from {tables.Hosts} where host = $1 for update", cancellationToken, host);
        if (await Scalar<string>(connection, $"select host from {tables.Targets} where migration_id = $1", cancellationToken, migrationId) == host)
            return null;
        if (refuse((await Load(connection, host, cancellationToken)).Without(migrationId)) is { } problem)
            return problem;
        await Execute(connection, $"""
            insert into {tables.Targets} (migration_id, vm_id, host) values ($1, $2, $3)
            on conflict (migration_id) do update set vm_id = excluded.vm_id, host = excluded.host, passes = 0
            """, cancellationToken, migrationId, vmId, host);
        await transaction.CommitAsync(cancellationToken);
        return null;
    }, cancellationToken);

    public Task<bool> IsTargetPreparedAsync(Guid migrationId, string host, CancellationToken cancellationToken) => Run(async connection =>
        await Scalar<string>(connection, $"select host from {tables.Targets} where migration_id = $1", cancellationToken, migrationId) == host,
        cancellationToken);

    public Task RemoveTargetAsync(Guid migrationId, CancellationToken cancellationToken) =>
        Run(connection => Execute(connection, $"delete from {tables.Targets} where migration_id = $1", cancellationToken, migrationId), cancellationToken);

    public Task<int> PassesSentAsync(Guid migrationId, CancellationToken cancellationToken) => Run(async connection =>
        await Scalar<int?>(connection, $"select passes from {tables.Targets} where migration_id = $1", cancellationToken, migrationId) ?? 0,
        cancellationToken);

    public Task RecordPassAsync(Guid migrationId, int round, CancellationToken cancellationToken) => Run(connection =>
        Execute(connection, $"update {tables.Targets} set passes = greatest(passes, $2) where migration_id = $1", cancellationToken, migrationId, round),
        cancellationToken);

    /// <summary>One statement: the VM's new place and the end of its destination's promise are seen together.</summary>
    public Task SwitchOverAsync(Guid migrationId, string vmId, string host, CancellationToken cancellationToken) => Run(connection =>
        Execute(connection, $"""
            with kept as (delete from {tables.Targets} where migration_id = $1)
            insert into {tables.Vms} (vm_id, host) values ($2, $3) on conflict (vm_id) do update set host = excluded.host
            """, cancellationToken, migrationId, vmId, host), cancellationToken);

    public async Task<IReadOnlyList<string>> KillHostAsync(string host, CancellationToken cancellationToken)
    {
        var lost = await Run(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await Execute(connection, $"""
                insert into {tables.Hosts} (host, down_since) values ($1, now())
                on conflict (host) do update set down_since = coalesce({tables.Hosts}.down_since, excluded.down_since)
                """, cancellationToken, host);
            await Execute(connection, $"delete from {tables.Targets} where host = $1", cancellationToken, host);
            var vms = await Strings(connection, $"delete from {tables.Vms} where host = $1 returning vm_id", cancellationToken, host);
            await transaction.CommitAsync(cancellationToken);
            return vms;
        }, cancellationToken);
        var known = _deadHosts;
        _deadHosts = known with { Hosts = new HashSet<string>(known.Hosts.Append(host), StringComparer.Ordinal) };
        return lost;
    }

    public Task LoseAsync(string vmId, CancellationToken cancellationToken) =>
        Run(connection => Execute(connection, $"delete from {tables.Vms} where vm_id = $1", cancellationToken, vmId), cancellationToken);

    public async Task<bool> IsDownAsync(string host, CancellationToken cancellationToken)
    {
        if (DateTime.UtcNow - _deadHosts.ReadAt > DeadHostsFreshFor)
        {
            await _deadHostsRead.WaitAsync(cancellationToken);
            try
            {
                if (DateTime.UtcNow - _deadHosts.ReadAt > DeadHostsFreshFor)
                {
                    var dead = await Run(connection => Strings(connection, $"select host from {tables.Hosts} where down_since is not null", cancellationToken),
                        cancellationToken);
                    _deadHosts = new DeadHosts(new HashSet<string>(dead, StringComparer.Ordinal), DateTime.UtcNow);
                }
            }
            finally
            {
                _deadHostsRead.Release();
            }
        }
        return _deadHosts.Hosts.Contains(host);
    }

    /// <summary>The host's VMs and promises in one statement, so a switchover is seen whole (never in both lists, never in neither).</summary>
    async Task<SimHostLoad> Load(NpgsqlConnection connection, string host, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, $"""
            select vm_id, null::uuid from {tables.Vms} where host = $1
            union all
            select vm_id, migration_id from {tables.Targets} where host = $1
            """, host);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var resident = new List<string>();
        var inbound = new List<InboundVm>();
        while (await reader.ReadAsync(cancellationToken))
        {
            if (await reader.IsDBNullAsync(1, cancellationToken))
                resident.Add(reader.GetString(0));
            else
                inbound.Add(new InboundVm(reader.GetGuid(1), reader.GetString(0)));
        }
        return new SimHostLoad(resident, inbound);
    }

    /// <summary>Runs <paramref name="work"/> on a connection of its own, waiting out an outage of PostgreSQL within the budget.</summary>
    async Task<T> Run<T>(Func<NpgsqlConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        var started = DateTime.UtcNow;
        var wait = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                await using var connection = await tables.OpenAsync(cancellationToken);
                var result = await work(connection);
                if (Interlocked.Exchange(ref _outage, 0) == 1)
                    logger.LogInformation("PostgreSQL answers again: the sim fleet goes on");
                return result;
            }
            catch (Exception exception) when (IsTransient(exception) && !cancellationToken.IsCancellationRequested && DateTime.UtcNow - started < outageBudget)
            {
                if (Interlocked.Exchange(ref _outage, 1) == 0)
                    logger.LogWarning(exception, "PostgreSQL is away: the sim fleet waits for it (up to {OutageBudget})", outageBudget);
                await Task.Delay(wait, cancellationToken);
                wait = wait * 2 < LongestWait ? wait * 2 : LongestWait;
            }
        }
    }

    async Task Run(Func<NpgsqlConnection, Task> work, CancellationToken cancellationToken) =>
        await Run<bool>(async connection =>
        {
            await work(connection);
            return true;
        }, cancellationToken);

    static bool IsTransient(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is NpgsqlException { IsTransient: true } or SocketException or TimeoutException
                || e is PostgresException postgres && postgres.SqlState.StartsWith("08", StringComparison.Ordinal))
                return true;
        }
        return false;
    }

    static NpgsqlCommand Command(NpgsqlConnection connection, string sql, params object[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        return command;
    }

    static async Task Execute(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        await using var command = Command(connection, sql, parameters);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    static async Task<T?> Scalar<T>(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        await using var command = Command(connection, sql, parameters);
        return await command.ExecuteScalarAsync(cancellationToken) is T value ? value : default;
    }

    static async Task<IReadOnlyList<string>> Strings(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        await using var command = Command(connection, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var values = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
            values.Add(reader.GetString(0));
        return values;
    }

    sealed record DeadHosts(IReadOnlySet<string> Hosts, DateTime ReadAt);
}
