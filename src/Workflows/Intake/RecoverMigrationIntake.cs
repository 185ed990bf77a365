using MassTransit;
using Orchestrator.Contracts;

namespace Orchestrator.Workflows.Intake;

/// <summary>The public endpoint for <see cref="RecoverMigration"/>; hands the command to the migration saga.</summary>
public sealed class RecoverMigrationIntake : IConsumer<RecoverMigration>
{
    public Task Consume(ConsumeContext<RecoverMigration> context) =>
        context.ForwardToSaga(context.Message.MigrationId, context.Message.RequestedBy, context.Message);
}
