using Marten;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orchestrator.Contracts;
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

        var endpoint = await bus.GetSendEndpoint(SagaAddress);
        foreach (var timer in due)
        {
            object message = timer.Kind == TimerKinds.Completion
                ? new CompletionTimedOut(timer.MigrationId, timer.Token)
                : new StepTimedOut(timer.MigrationId, timer.Token, timer.State);
            await endpoint.Send(message, message.GetType(), Pipe.Execute<SendContext>(send => send.CorrelationId = timer.MigrationId), cancellationToken);
        }

        await using (var delete = new NpgsqlCommand($"delete from {table} where id = any($1)", connection, transaction))
        {
            delete.Parameters.Add(new NpgsqlParameter { Value = due.Select(t => t.Id).ToArray() });
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return due.Count;
    }
}
