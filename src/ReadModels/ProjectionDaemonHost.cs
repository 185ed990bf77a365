using JasperFx.Events.Daemon;
using Marten;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Orchestrator.ReadModels;

/// <summary>
/// Runs the asynchronous projections (host load, attention queue) on exactly one orchestrator node at a time: the node
/// that holds a PostgreSQL advisory lock named after the schema runs Marten's projection daemon; the others wait and
/// take over when that node's connection goes. (Marten's own HotCold mode needs a patched DistributedLock.Core that
/// this feed does not serve: it fails with a TypeLoadException, see build/Marten.props.)
/// </summary>
public sealed partial class ProjectionDaemonHost(IDocumentStore store, ILogger<ProjectionDaemonHost> logger) : BackgroundService
{
    static readonly TimeSpan Retry = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await LeadWhileHoldingTheLock(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Whatever went wrong (the database gone, a projection that throws), the serve role keeps running and
                // tries again: the dashboards are not worth stopping the workflows for.
                LogDaemonFailed(e);
            }
            try
            {
                await Task.Delay(Retry, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    async Task LeadWhileHoldingTheLock(CancellationToken stoppingToken)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(stoppingToken);
        await using (var take = new NpgsqlCommand("select pg_try_advisory_lock(hashtext($1))", connection))
        {
            take.Parameters.Add(new NpgsqlParameter { Value = LockName });
            if (await take.ExecuteScalarAsync(stoppingToken) is not true)
                return;
        }

        try
        {
            LogLeading(LockName);
            // Stopped, not disposed: its agents may still be loading a page when StopAllAsync returns, and disposing
            // it then fails them with ObjectDisposedException (seen at the end of bench/run.sh's saga runs).
            var daemon = await store.BuildProjectionDaemonAsync(logger: logger);
            await daemon.StartAllAsync();
            try
            {
                // Hold the lock as long as the connection lives; if it breaks, the lock is gone and so is the lead.
                await using var ping = new NpgsqlCommand("select 1", connection);
                while (!stoppingToken.IsCancellationRequested)
                {
                    await Task.Delay(Retry, stoppingToken);
                    await ping.ExecuteScalarAsync(stoppingToken);
                }
            }
            finally
            {
                await daemon.StopAllAsync();
            }
        }
        finally
        {
            // A pooled connection keeps its session's locks until it is reset: let go explicitly.
            if (connection.State == System.Data.ConnectionState.Open)
            {
                await using var release = new NpgsqlCommand("select pg_advisory_unlock(hashtext($1))", connection);
                release.Parameters.Add(new NpgsqlParameter { Value = LockName });
                await release.ExecuteScalarAsync(CancellationToken.None);
            }
        }
    }

    string LockName => $"orchestrator-projections:{store.Options.Events.DatabaseSchemaName}";

    [LoggerMessage(LogLevel.Information, "This node runs the asynchronous projections ({LockName})")]
    partial void LogLeading(string lockName);

    [LoggerMessage(LogLevel.Warning, "The projection daemon stopped; another attempt follows")]
    partial void LogDaemonFailed(Exception exception);
}
