using MassTransit;
using Orchestrator.Contracts;

namespace Orchestrator.Workflows.Intake;

/// <summary>The public endpoint for <see cref="RecoverMigration"/>; hands the command to the migration saga,
/// or refuses it (<see cref="CommandRefused"/>, published) when its free text breaks the rules.</summary>
public sealed class RecoverMigrationIntake : IConsumer<RecoverMigration>
{
    public Task Consume(ConsumeContext<RecoverMigration> context) =>
        context.ForwardOrRefuse("recover", context.Message.MigrationId, context.Message.RequestedBy, context.Message,
            OperatorCommandRules.Problem(context.Message));
}
