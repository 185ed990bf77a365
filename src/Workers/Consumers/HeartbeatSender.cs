using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;

namespace Orchestrator.Workers.Consumers;

/// <summary>
/// Every heartbeat interval, one <see cref="WorkerHeartbeat"/> naming each source host with transfers under way and its
/// transfers, to the liveness queue: however many hosts and transfers this worker serves, one message per interval
/// (at 1,000 hosts, one message per host cost the broker and serve more than the saga's own work did).
/// </summary>
public sealed class HeartbeatSender(ActiveTransfers transfers, IBus bus, IOptions<WorkerOptions> options, ILogger<HeartbeatSender> logger)
    : BackgroundService
{
    static readonly Uri Liveness = new($"queue:{QueueNames.Liveness}");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.HeartbeatInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var now = DateTimeOffset.UtcNow;
                    var hosts = transfers.ByHost().Select(host => new HostHeartbeat(host.Host, host.MigrationIds, now)).ToArray();
                    if (hosts.Length == 0)
                        continue;
                    var endpoint = await bus.GetSendEndpoint(Liveness);
                    await endpoint.Send(new WorkerHeartbeat(hosts, now), stoppingToken);
                }
                catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
                {
                    // A missed beat is no harm; the next interval tries again.
                    logger.LogDebug(exception, "Sending heartbeats failed");
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }
}
