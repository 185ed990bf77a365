using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Workflows.Persistence;

namespace Orchestrator.Workflows.Intake;

static class SagaAddress
{
    public static readonly Uri Uri = new($"queue:{QueueNames.MigrationSaga}");

    /// <summary>
    /// Hands a public command to the saga, correlated with its migration (the saga endpoint partitions on it), with a
    /// message id (a plain AMQP client may send none, and the events need a causation id) and the principal.
    /// </summary>
    public static Task ForwardToSaga<T>(this ConsumeContext context, Guid migrationId, string? requestedBy, T command)
        where T : class =>
        context.Send(Uri, command, forwarded =>
        {
            forwarded.MessageId = context.MessageId ?? NewId.NextGuid();
            forwarded.CorrelationId = migrationId;
            if (requestedBy is { Length: > 0 })
                forwarded.Headers.Set(MessageHeadersNames.Principal, requestedBy);
        });
}
