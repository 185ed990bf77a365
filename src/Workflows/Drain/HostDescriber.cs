using MassTransit;
using Microsoft.Extensions.Logging;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;

namespace Orchestrator.Workflows.Drain;

/// <summary>Asks a host's worker what runs there and how much room it has (<see cref="DescribeHost"/>), for a drain and its plan.</summary>
public static class HostDescriber
{
    public static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The host's description from its worker, or why there is none.</summary>
    public static async Task<(HostDescription? Description, string? Problem)> Describe(IClientFactory clients, ILogger logger, string hypervisor,
        string host, CancellationToken cancellationToken)
    {
        var client = clients.CreateRequestClient<DescribeHost>(new Uri($"queue:{QueueNames.Worker(hypervisor, host)}"), RequestTimeout.After(s: (int)AnswerTimeout.TotalSeconds));
        try
        {
            return ((await client.GetResponse<HostDescription>(new DescribeHost(host), cancellationToken)).Message, null);
        }
        catch (RequestTimeoutException)
        {
            return (null, $"The worker of {host} did not say what runs there within {AnswerTimeout.TotalSeconds:0} s");
        }
        catch (RequestFaultException fault)
        {
            var reason = fault.Fault?.Exceptions.FirstOrDefault()?.Message ?? fault.Message;
            logger.LogWarning("The worker of {Host} could not describe it: {Reason}", host, reason);
            return (null, $"The worker of {host} could not describe it ({reason})");
        }
    }
}
