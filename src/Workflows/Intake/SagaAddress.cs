using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Workflows.Persistence;

namespace Orchestrator.Workflows.Intake;

static class SagaAddress
{
    public static readonly Uri Uri = new($"queue:{QueueNames.MigrationSaga}");

    /// <summary>
    /// Hands a public command to the saga, correlated with its migration (the saga endpoint partitions on it), with a
    /// message id (a plain AMQP client may send none, and the events need a causation id) and the principal. The principal
    /// becomes an AMQP header: only a value that meets the free-text rules goes there (a 200 KB one would make RabbitMQ
    /// close the connection, frame_too_large); the saga rejects a command whose requestedBy does not.
    /// </summary>
    public static Task ForwardToSaga<T>(this ConsumeContext context, Guid migrationId, string? requestedBy, T command)
        where T : class =>
        context.Send(Uri, command, forwarded =>
        {
            forwarded.MessageId = context.MessageId ?? NewId.NextGuid();
            forwarded.CorrelationId = migrationId;
            if (requestedBy is { Length: > 0 } && InputRules.TextProblem("requestedBy", requestedBy, InputRules.RequestedByMaxLength) is null)
                forwarded.Headers.Set(MessageHeadersNames.Principal, requestedBy);
        });

    /// <summary>
    /// Hands an operator command to the saga, or, when <paramref name="problem"/> says it breaks an input rule, publishes
    /// a <see cref="CommandRefused"/> with that problem and forwards nothing.
    /// </summary>
    public static Task ForwardOrRefuse<T>(this ConsumeContext context, string commandName, Guid migrationId, string? requestedBy,
        T command, string? problem)
        where T : class =>
        problem is null
            ? context.ForwardToSaga(migrationId, requestedBy, command)
            : context.Publish(new CommandRefused(migrationId, commandName, problem, DateTimeOffset.UtcNow));
}
