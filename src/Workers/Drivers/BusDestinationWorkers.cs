using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;

namespace Orchestrator.Workers.Drivers;

/// <summary>Asks another host's worker over the bus (its queue <c>worker.{hypervisor}.{host}</c>), request and response.</summary>
public sealed class BusDestinationWorkers(IClientFactory clients, string hypervisor) : IDestinationWorkers
{
    /// <summary>How long beyond the destination's own wait the answer may take to come back.</summary>
    static readonly TimeSpan Slack = TimeSpan.FromSeconds(5);

    public async Task<PostCopyRecoveryListening> ListenForPostCopyRecoveryAsync(ListenForPostCopyRecovery command, CancellationToken cancellationToken)
    {
        var address = new Uri($"queue:{QueueNames.Worker(hypervisor, command.TargetHost)}");
        var client = clients.CreateRequestClient<ListenForPostCopyRecovery>(address, RequestTimeout.After(ms: command.WaitMs + (int)Slack.TotalMilliseconds));
        try
        {
            var response = await client.GetResponse<PostCopyRecoveryListening>(command, cancellationToken);
            return response.Message;
        }
        catch (RequestTimeoutException exception)
        {
            throw new TimeoutException($"the worker of {command.TargetHost} did not answer within {command.WaitMs + Slack.TotalMilliseconds:0} ms", exception);
        }
    }
}
