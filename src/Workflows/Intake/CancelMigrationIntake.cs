using MassTransit;
using Orchestrator.Contracts;

namespace Orchestrator.Workflows.Intake;

/// <summary>The public endpoint for <see cref="CancelMigration"/>; hands the command to the migration saga.</summary>
public sealed class CancelMigrationIntake : IConsumer<CancelMigration>
{
    public Task Consume(ConsumeContext<CancelMigration> context) =>
        context.ForwardToSaga(context.Message.MigrationId, context.Message.RequestedBy, context.Message);
}
