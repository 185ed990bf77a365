using Marten;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orchestrator.Contracts;
using Orchestrator.Workflows.Intake;
using Orchestrator.Workflows.Outbox;

namespace Orchestrator.Workflows.Resilience;

/// <summary>
/// Outermost on an endpoint that applies messages to the workflow (the saga's, the public intakes'): a message whose
/// handling failed for good, after every retry and not for an outage (a PostgreSQL data error, say), is set aside as a
/// <see cref="DeadLetter"/> with its reason, counted and logged once, and its migration is told (<see cref="MessageGivenUp"/>,
/// <see cref="StartGivenUp"/>) in the same transaction, so it ends with that reason instead of waiting for a timeout.
/// The exception then goes on: MassTransit moves the message to the endpoint's _error queue, as for any fault.
/// </summary>
public sealed class PoisonInputFilter(IDocumentStore store, DeliveredOutboxMessages delivered, ILogger logger) : IFilter<ConsumeContext>
{
    const int MaxBodyChars = 64 * 1024;

    /// <summary>The public intakes' queues and what each takes; a raw JSON body carries no type of its own.</summary>
    static readonly Dictionary<string, string> IntakeTypes = new()
    {
        [QueueNames.StartMigration] = nameof(StartMigration),
        [QueueNames.CancelMigration] = nameof(CancelMigration),
        [QueueNames.ForceCompleteMigration] = nameof(ForceCompleteMigration),
        [QueueNames.RecoverMigration] = nameof(RecoverMigration),
        [QueueNames.DrainHost] = nameof(DrainHost),
    };

    public async Task Send(ConsumeContext context, IPipe<ConsumeContext> next)
    {
        try
        {
            await next.Send(context);
        }
        // A body the public rules refused is answered by them (its _error entry carries the rule); a dead letter is for
        // what passed them and still failed.
        catch (Exception exception) when (!TransientFaults.IsTransient(exception) && !context.CancellationToken.IsCancellationRequested
            && !IsRefusedBody(exception) && !IsWaitingItsTurn(exception))
        {
            await SetAside(context, exception);
            throw;
        }
    }

    async Task SetAside(ConsumeContext context, Exception exception)
    {
        var queue = context.ReceiveContext.InputAddress.AbsolutePath.Split('/').LastOrDefault(s => s.Length > 0) ?? string.Empty;
        var type = IntakeTypes.GetValueOrDefault(queue)
            ?? context.SupportedMessageTypes.Select(DeadLetterNotices.ShortName).FirstOrDefault() ?? "unknown";
        var now = DateTimeOffset.UtcNow;
        var letter = new DeadLetter
        {
            Id = context.MessageId ?? NewId.NextGuid(),
            MigrationId = MigrationOf(context, type) ?? Guid.Empty,
            Source = DeadLetterSources.Input,
            Queue = queue,
            MessageType = type,
            Body = Printable(context.ReceiveContext.Body.GetString()),
            Attempts = 1 + context.GetRedeliveryCount(),
            Reason = DeliveryFailures.Describe(Cause(exception)),
            FirstFailedAt = now,
            SetAsideAt = now,
        };
        var notice = DeadLetterNotices.For(letter);
        // A transaction refused for its data may have left its connection unusable: not for the letter, nor what follows.
        if (RefusedTransactions.IsRefusedByTheDatabase(exception))
            RefusedTransactions.DiscardConnections(store);
        try
        {
            await using (var session = store.LightweightSession())
            {
                // A message set aside again (an operator moved it back from _error and it failed once more) replaces its letter.
                session.Store(letter);
                if (notice is not null)
                    session.Store(notice);
                await session.SaveChangesAsync(CancellationToken.None);
            }
            DeadLetterMetrics.Count(letter.Source);
            logger.LogWarning("Set aside message {MessageId} of migration {MigrationId} ({MessageType} on {Queue}): {Reason}",
                letter.Id, letter.MigrationId, letter.MessageType, queue, letter.Reason);
        }
        catch (Exception storing)
        {
            // The message still goes to the _error queue; only its letter is missing.
            logger.LogError(storing, "Could not set aside message {MessageId} ({MessageType} on {Queue}) as a dead letter", letter.Id, type, queue);
            return;
        }
        if (notice is null)
            return;
        try
        {
            await OutboxMessages.Deliver(notice, context, context, CancellationToken.None);
            delivered.Add(notice.Id);
        }
        catch (Exception delivering)
        {
            // Stored with the letter: the outbox dispatcher delivers it.
            logger.LogDebug(delivering, "A dead letter's notice to its migration waits for the outbox dispatcher");
        }
    }

    /// <summary>
    /// A conflict that waits its turn (another delivery changed the migration first, a report came before the one it
    /// follows): retried by the endpoint's own policy, never a poison, whatever this filter sees of it.
    /// </summary>
    static bool IsWaitingItsTurn(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is JasperFx.ConcurrencyException or JasperFx.Events.EventStreamUnexpectedMaxEventIdException
                or JasperFx.DocumentAlreadyExistsException or Migration.ReportOutOfOrderException)
                return true;
        }
        return false;
    }

    static bool IsRefusedBody(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is PublicBodyRefusedException)
                return true;
        }
        return false;
    }

    /// <summary>The database's own words when it refused the transaction (Marten wraps them with the whole SQL), else the fault.</summary>
    static Exception Cause(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is PostgresException)
                return e;
        }
        return exception;
    }

    /// <summary>The migration the message belongs to: its correlation id (every sender to the saga sets it), or the command's own.</summary>
    static Guid? MigrationOf(ConsumeContext context, string type)
    {
        if (context.CorrelationId is { } correlationId && correlationId != Guid.Empty)
            return correlationId;
        try
        {
            Guid? id = type switch
            {
                nameof(StartMigration) => context.TryGetMessage<StartMigration>(out var start) ? start.Message.MigrationId : null,
                nameof(CancelMigration) => context.TryGetMessage<CancelMigration>(out var cancel) ? cancel.Message.MigrationId : null,
                nameof(ForceCompleteMigration) => context.TryGetMessage<ForceCompleteMigration>(out var force) ? force.Message.MigrationId : null,
                nameof(RecoverMigration) => context.TryGetMessage<RecoverMigration>(out var recover) ? recover.Message.MigrationId : null,
                _ => null,
            };
            return id == Guid.Empty ? null : id;
        }
        catch (Exception)
        {
            // A body that cannot be read names no migration.
            return null;
        }
    }

    /// <summary>The body as text PostgreSQL can store (no NUL, no lone surrogate), clipped.</summary>
    static string Printable(string body)
    {
        var clipped = body.Length > MaxBodyChars ? body[..MaxBodyChars] : body;
        var chars = clipped.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            var paired = char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1])
                || char.IsLowSurrogate(chars[i]) && i > 0 && char.IsHighSurrogate(chars[i - 1]);
            if (chars[i] == '\0' || char.IsSurrogate(chars[i]) && !paired)
                chars[i] = '\uFFFD';
        }
        var text = new string(chars);
        return body.Length > MaxBodyChars ? $"{text}… ({body.Length} characters in all)" : text;
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("poisonInput");

    /// <summary>The filter for an endpoint; configure it first, so it sees a fault only once every retry has given up.</summary>
    public static PoisonInputFilter Create(IRegistrationContext context) => new(
        context.GetRequiredService<IDocumentStore>(), context.GetRequiredService<DeliveredOutboxMessages>(),
        context.GetRequiredService<ILoggerFactory>().CreateLogger<PoisonInputFilter>());
}
