using Marten;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orchestrator.Contracts;
using Orchestrator.ReadModels.Audit;
using Orchestrator.ReadModels.Audit.Ledger;

namespace Orchestrator.Hosting;

/// <summary>
/// Serve's signed checkpoints of the audit ledger: one when <c>Audit:CheckpointEvery</c> events (default 1000) are
/// waiting to be ledgered, or when any are and <c>Audit:CheckpointSeconds</c> (default 60) have passed since the last,
/// and one at shutdown. Each is stored (<see cref="AuditLedger.TakeCheckpoint"/>) and published as
/// <see cref="AuditCheckpointTaken"/>. Without <c>Audit:SigningKey</c> it takes none and says so once.
/// </summary>
public sealed class AuditCheckpointService(IDocumentStore store, IBus bus, IConfiguration configuration, ILogger<AuditCheckpointService> logger)
    : BackgroundService
{
    static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);
    readonly SigningKey? _key = configuration["Audit:SigningKey"] is { Length: > 0 } seed ? SigningKey.FromBase64(seed) : null;
    readonly long _every = configuration.GetValue("Audit:CheckpointEvery", 1000L);
    readonly TimeSpan _interval = TimeSpan.FromSeconds(configuration.GetValue("Audit:CheckpointSeconds", 60.0));
    DateTimeOffset _last = DateTimeOffset.UtcNow;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_key is null)
        {
            logger.LogWarning("No Audit:SigningKey: the audit ledger takes no signed checkpoints");
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Tick(force: false, stoppingToken);
                await Task.Delay(Poll, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception failure) when (failure is NpgsqlException or MassTransitException or TimeoutException)
            {
                logger.LogWarning(failure, "Taking an audit checkpoint failed; trying again");
                await Task.Delay(Poll * 5, stoppingToken);
            }
        }
    }

    /// <summary>At shutdown, after the loop: one last checkpoint over whatever was appended since the last.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_key is null)
            return;
        try
        {
            await Tick(force: true, cancellationToken);
        }
        catch (Exception failure) when (failure is NpgsqlException or MassTransitException or OperationCanceledException or TimeoutException)
        {
            logger.LogWarning(failure, "The shutdown audit checkpoint could not be taken");
        }
    }

    /// <summary>Takes a checkpoint when one is due (or, with <paramref name="force"/>, whenever events wait); returns it, else null.</summary>
    public async Task<Checkpoint?> Tick(bool force, CancellationToken cancellationToken)
    {
        var waiting = await Waiting(cancellationToken);
        var now = DateTimeOffset.UtcNow;
        if (waiting == 0 || (!force && waiting < _every && now - _last < _interval))
            return null;
        var checkpoint = await AuditLedger.TakeCheckpoint(store, _key!, now, cancellationToken);
        _last = now;
        await bus.Publish(new AuditCheckpointTaken(checkpoint.Origin, checkpoint.TreeSize, checkpoint.RootHash, checkpoint.SignedAt, checkpoint.KeyId,
            checkpoint.Signature, now), cancellationToken);
        logger.LogInformation("Audit checkpoint of {TreeSize} events signed, root {RootHash}", checkpoint.TreeSize, checkpoint.RootHash);
        return checkpoint;
    }

    /// <summary>How many events are not yet ledgered (counting from the last ledgered sequence; a late commit below it is taken with the next).</summary>
    async Task<long> Waiting(CancellationToken cancellationToken)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellationToken);
        var ledgered = await LedgerSchema.Exists(connection, store, cancellationToken);
        await using var command = new NpgsqlCommand(ledgered
            ? $"select count(*) from {EventRows.Table(store)} e where e.seq_id > (select coalesce(max(seq_id), 0) from {LedgerSchema.Ledger(store)})"
            : $"select count(*) from {EventRows.Table(store)}", connection);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
