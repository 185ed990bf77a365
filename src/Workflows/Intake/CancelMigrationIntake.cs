using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Workflows.Persistence;

namespace Orchestrator.Workflows.Intake;

/// <summary>The public endpoint for <see cref="CancelMigration"/>; hands the command to the migration saga.</summary>
public sealed class CancelMigrationIntake : IConsumer<CancelMigration>
{
    public Task Consume(ConsumeContext<CancelMigration> context) => context.Send(SagaAddress.Uri, context.Message, forwarded =>
    {
        forwarded.MessageId = context.MessageId ?? NewId.NextGuid();
        forwarded.CorrelationId = context.Message.MigrationId;
        if (context.Message.RequestedBy is { Length: > 0 } principal)
            forwarded.Headers.Set(MessageHeadersNames.Principal, principal);
    });
}
