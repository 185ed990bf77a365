using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orchestrator.Contracts;

namespace Orchestrator.Events;

/// <summary>
/// Declares <see cref="PublicContract.EventsExchange"/> when <c>serve</c> starts, before the first event: a service may
/// bind its queue to it before anything has happened. Start-up waits for it a while; if RabbitMQ is away longer, it goes on
/// trying in the background (the first CloudEvent would declare it too).
/// </summary>
public sealed class EventsExchangeDeclaration(CloudEventPublisher publisher, ILogger<EventsExchangeDeclaration> logger) : IHostedService
{
    static readonly TimeSpan WaitAtStart = TimeSpan.FromSeconds(20);

    readonly CancellationTokenSource _stopping = new();
    Task _background = Task.CompletedTask;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var declaring = Declare(_stopping.Token);
        if (await Task.WhenAny(declaring, Task.Delay(WaitAtStart, cancellationToken)) != declaring)
            logger.LogWarning("{Exchange} is not declared yet (RabbitMQ does not answer); start-up goes on and keeps trying", PublicContract.EventsExchange);
        _background = declaring;
    }

    async Task Declare(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await publisher.DeclareAsync(cancellationToken);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogDebug(e, "Declaring {Exchange} failed; trying again", PublicContract.EventsExchange);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        try
        {
            await _background;
        }
        catch (OperationCanceledException)
        {
        }
        _stopping.Dispose();
    }
}
