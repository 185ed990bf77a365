using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Workflows.Intake;
using RabbitMQ.Client;

namespace Orchestrator.Hosting;

/// <summary>
/// Reads how many messages wait in the saga's queue (a passive declare, on a connection of its own) every
/// <see cref="IntakeOptions.ProbeInterval"/> and tells <see cref="SagaBacklog"/>. A failed read (the broker away, the
/// queue not declared yet) reports the depth unknown, which holds nothing back, and the next read starts on a new channel.
/// </summary>
public sealed class SagaBacklogProbe(string rabbitMq, SagaBacklog backlog, IOptions<IntakeOptions> options, ILogger<SagaBacklogProbe> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.SagaBacklogSeconds <= 0)
            return;
        var factory = RabbitMqAddress.Factory(rabbitMq, "orchestrator saga backlog probe");
        IConnection? connection = null;
        IChannel? channel = null;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    connection ??= await factory.CreateConnectionAsync(stoppingToken);
                    channel ??= await connection.CreateChannelAsync(cancellationToken: stoppingToken);
                    var queue = await channel.QueueDeclarePassiveAsync(QueueNames.MigrationSaga, stoppingToken);
                    backlog.Report(queue.MessageCount);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogDebug(e, "The saga queue's depth could not be read; the intake holds nothing back until it can");
                    backlog.Report(null);
                    channel = await Close(channel);
                    if (connection is { IsOpen: false })
                    {
                        await connection.DisposeAsync();
                        connection = null;
                    }
                }
                await Task.Delay(options.Value.ProbeInterval, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await Close(channel);
            if (connection is not null)
                await connection.DisposeAsync();
        }
    }

    static async Task<IChannel?> Close(IChannel? channel)
    {
        if (channel is not null)
            await channel.DisposeAsync();
        return null;
    }
}
