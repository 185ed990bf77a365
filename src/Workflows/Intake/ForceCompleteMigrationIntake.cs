using MassTransit;
using Orchestrator.Contracts;

namespace Orchestrator.Workflows.Intake;

/// <summary>The public endpoint for <see cref="ForceCompleteMigration"/>; hands the command to the migration saga.</summary>
public sealed class ForceCompleteMigrationIntake : IConsumer<ForceCompleteMigration>
{
    public Task Consume(ConsumeContext<ForceCompleteMigration> context) =>
        context.ForwardToSaga(context.Message.MigrationId, context.Message.RequestedBy, context.Message);
}
