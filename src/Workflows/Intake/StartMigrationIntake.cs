using MassTransit;
using Orchestrator.Contracts;

namespace Orchestrator.Workflows.Intake;

/// <summary>
/// The public endpoint for <see cref="StartMigration"/>: takes MassTransit envelopes and plain JSON alike and hands the
/// command to the migration saga. A command without a usable MigrationId cannot have a stream of its own: it is
/// rejected here, with the reason published for the sender. While the saga is behind, a valid command waits here
/// before it goes on (<see cref="SagaBacklog"/>).
/// </summary>
public sealed class StartMigrationIntake(SagaBacklog backlog) : IConsumer<StartMigration>
{
    public async Task Consume(ConsumeContext<StartMigration> context)
    {
        if (context.Message.MigrationId == Guid.Empty)
        {
            await context.Publish(new MigrationRejected(Guid.Empty, InputRules.Clip(context.Message.VmId), RejectionCodes.InvalidCommand,
                "MigrationId is required: a non-empty GUID chosen by the sender, the key that makes the command idempotent.",
                DateTimeOffset.UtcNow));
            return;
        }

        await backlog.WaitForRoom(context.Message.MigrationId, context.CancellationToken);
        await context.ForwardToSaga(context.Message.MigrationId, context.Message.RequestedBy, context.Message);
    }
}
