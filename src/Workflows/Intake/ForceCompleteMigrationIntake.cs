using MassTransit;
using Orchestrator.Contracts;

namespace Orchestrator.Workflows.Intake;

/// <summary>The public endpoint for <see cref="ForceCompleteMigration"/>; hands the command to the migration saga,
/// or refuses it (<see cref="CommandRefused"/>, published) when its free text breaks the rules.</summary>
public sealed class ForceCompleteMigrationIntake : IConsumer<ForceCompleteMigration>
{
    public Task Consume(ConsumeContext<ForceCompleteMigration> context) =>
        context.ForwardOrRefuse("force-complete", context.Message.MigrationId, context.Message.RequestedBy, context.Message,
            OperatorCommandRules.Problem(context.Message));
}
