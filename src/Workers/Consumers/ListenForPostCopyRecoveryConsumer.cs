using MassTransit;
using Microsoft.Extensions.Logging;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workers.Drivers;

namespace Orchestrator.Workers.Consumers;

/// <summary>
/// On the target host's worker: the source's worker asks it to make the destination listen for a resumed post-copy.
/// Always answers, with the URI or with the problem; a request under a superseded epoch touches nothing.
/// </summary>
public sealed class ListenForPostCopyRecoveryConsumer(IHypervisorDriver driver, EpochFence fence, ILogger<ListenForPostCopyRecoveryConsumer> logger)
    : IConsumer<ListenForPostCopyRecovery>
{
    public async Task Consume(ConsumeContext<ListenForPostCopyRecovery> context)
    {
        var command = context.Message;
        PostCopyRecoveryListening answer;
        if (!fence.Admit(command.MigrationId, command.Epoch))
        {
            logger.LogWarning("Refused a post-copy recovery of {VmId}: epoch {Epoch} is stale for migration {MigrationId}",
                command.VmId, command.Epoch, command.MigrationId);
            answer = new(command.MigrationId, null, $"epoch {command.Epoch} is stale for this migration on {command.TargetHost}'s worker");
        }
        else
        {
            try
            {
                answer = await driver.ListenForPostCopyRecoveryAsync(command, context.CancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !context.CancellationToken.IsCancellationRequested)
            {
                logger.LogWarning(exception, "Could not make the destination of {VmId} listen for the resumed post-copy", command.VmId);
                answer = new(command.MigrationId, null, $"{driver.Kind} on {command.TargetHost}: {exception.Message}");
            }
        }
        await context.RespondAsync(answer);
    }
}
