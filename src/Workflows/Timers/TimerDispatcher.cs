using Marten;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orchestrator.Contracts;
using Orchestrator.Workflows.Liveness;
using Orchestrator.Workflows.Migration;
using Orchestrator.Workflows.Resilience;

namespace Orchestrator.Workflows.Timers;

/// <summary>
/// Delivers due migration timers to the saga. Claims them with FOR UPDATE SKIP LOCKED, so any number of orchestrator
/// instances can run it without delivering one twice; sends, then deletes, in the claiming transaction. A crash after
/// sending and before commit sends the timer again, which the saga ignores by its token.
/// </summary>
public sealed class TimerDispatcher(IDocumentStore store, IBus bus, ILogger<TimerDispatcher> logger) : BackgroundService
{
    static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);
    static readonly Uri SagaAddress = new($"queue:{QueueNames.MigrationSaga}");
    static readonly HashSet<string> ProgressStates = [nameof(MigrationStateMachine.PreCopying), nameof(MigrationStateMachine.PostCopying)];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var table = $"{store.Options.DatabaseSchemaName}.mt_doc_migrationtimer";
        var serializer = store.Options.Serializer();
        var faults = new FaultStreak(logger, "Delivering due migration timers");
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var dispatched = await DispatchDue(table, serializer, stoppingToken);
                faults.Succeeded();
                if (dispatched == 0)
                    await Task.Delay(Interval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                // The timers stay stored: the next pass delivers them.
                faults.Failed(exception);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    async Task<int> DispatchDue(string table, ISerializer serializer, CancellationToken cancellationToken)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var due = new List<MigrationTimer>();
        await using (var select = new NpgsqlCommand(
            $"select data::text from {table} where due_at <= now() order by due_at limit 100 for update skip locked", connection, transaction))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
                due.Add(serializer.FromJson<MigrationTimer>(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(reader.GetString(0)))));
        }
        if (due.Count == 0)
            return 0;

        var postponed = await PostponeWhileAlive(due, table, serializer, connection, transaction, cancellationToken);
        var endpoint = await bus.GetSendEndpoint(SagaAddress);
        foreach (var timer in due.Where(t => !postponed.Contains(t.Id)))
        {
            object message = timer.Kind == TimerKinds.Completion
                ? new CompletionTimedOut(timer.MigrationId, timer.Token)
                : new StepTimedOut(timer.MigrationId, timer.Token, timer.State);
            await endpoint.Send(message, message.GetType(), Pipe.Execute<SendContext>(send => send.CorrelationId = timer.MigrationId), cancellationToken);
        }

        await using (var delete = new NpgsqlCommand($"delete from {table} where id = any($1)", connection, transaction))
        {
            delete.Parameters.Add(new NpgsqlParameter { Value = due.Select(t => t.Id).Where(id => !postponed.Contains(id)).ToArray() });
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return due.Count;
    }

    /// <summary>
    /// A progress timeout of a transfer (pre-copy, post-copy) whose worker said it was alive after the timer was armed is
    /// not due: it moves on to the last heartbeat plus the same delay, in the claiming transaction. Liveness comes from
    /// <see cref="TransferLiveness"/>, which heartbeats write outside the saga.
    /// </summary>
    async Task<HashSet<string>> PostponeWhileAlive(List<MigrationTimer> due, string table, ISerializer serializer, NpgsqlConnection connection,
        NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var postponed = new HashSet<string>();
        var progress = due.Where(t => t.Kind == TimerKinds.Step && t.ArmedAt != default && ProgressStates.Contains(t.State)).ToList();
        if (progress.Count == 0)
            return postponed;

        var seen = new Dictionary<Guid, DateTimeOffset>();
        await using (var select = new NpgsqlCommand(
            $"select id, seen_at from {store.Options.DatabaseSchemaName}.mt_doc_transferliveness where id = any($1)", connection, transaction))
        {
            select.Parameters.Add(new NpgsqlParameter { Value = progress.Select(t => t.MigrationId).ToArray() });
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                seen[reader.GetGuid(0)] = reader.GetFieldValue<DateTimeOffset>(1);
        }

        var now = DateTimeOffset.UtcNow;
        foreach (var timer in progress)
        {
            if (!seen.TryGetValue(timer.MigrationId, out var seenAt) || seenAt <= timer.ArmedAt || seenAt + (timer.DueAt - timer.ArmedAt) <= now)
                continue;
            timer.DueAt = seenAt + (timer.DueAt - timer.ArmedAt);
            timer.ArmedAt = seenAt;
            await using var update = new NpgsqlCommand($"update {table} set data = $2::jsonb, due_at = $3 where id = $1", connection, transaction);
            update.Parameters.Add(new NpgsqlParameter { Value = timer.Id });
            update.Parameters.Add(new NpgsqlParameter { Value = serializer.ToJson(timer) });
            update.Parameters.Add(new NpgsqlParameter { Value = timer.DueAt });
            await update.ExecuteNonQueryAsync(cancellationToken);
            postponed.Add(timer.Id);
        }
        return postponed;
    }
}
