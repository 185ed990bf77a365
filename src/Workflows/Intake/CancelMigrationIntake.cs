using MassTransit;
using Orchestrator.Contracts;

namespace Orchestrator.Workflows.Intake;

/// <summary>The public endpoint for <see cref="CancelMigration"/>; hands the command to the migration saga,
/// or refuses it (<see cref="CommandRefused"/>, published) when its free text breaks the rules.</summary>
public sealed class CancelMigrationIntake : IConsumer<CancelMigration>
{
    public Task Consume(ConsumeContext<CancelMigration> context) =>
        context.ForwardOrRefuse("cancel", context.Message.MigrationId, context.Message.RequestedBy, context.Message,
            OperatorCommandRules.Problem(context.Message));
}
