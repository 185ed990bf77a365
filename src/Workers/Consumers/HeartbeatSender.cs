using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;

namespace Orchestrator.Workers.Consumers;

/// <summary>
/// Every heartbeat interval, one <see cref="HostHeartbeat"/> per source host with transfers under way, to the liveness
/// queue: however many transfers run, the orchestrator hears from each host once per interval.
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
                    var endpoint = await bus.GetSendEndpoint(Liveness);
                    foreach (var (host, migrations) in transfers.ByHost())
                        await endpoint.Send(new HostHeartbeat(host, migrations, DateTimeOffset.UtcNow), stoppingToken);
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
