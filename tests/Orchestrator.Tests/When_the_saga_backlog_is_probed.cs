using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Hosting;
using Orchestrator.Workflows.Intake;
using RabbitMQ.Client;

namespace Orchestrator.Tests;

/// <summary>
/// The depth the intake's back-pressure goes by (<see cref="SagaBacklog"/>) is read from the real broker by
/// <see cref="SagaBacklogProbe"/>, on a vhost of this test's own: what waits in the saga's queue, nothing while the
/// queue is missing, and the count again once it is back.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_the_saga_backlog_is_probed
{
    [Fact]
    public async Task Should_read_the_sagas_queue_depth_from_the_broker_and_say_unknown_while_the_queue_is_missing()
    {
        await using var vhost = await RabbitVhost.Create("backlog");
        var options = Options.Create(new IntakeOptions { ProbeInterval = TimeSpan.FromMilliseconds(100) });
        var backlog = new SagaBacklog(options, NullLogger<SagaBacklog>.Instance);
        using var probe = new SagaBacklogProbe(vhost.ConnectionString, backlog, options, NullLogger<SagaBacklogProbe>.Instance);
        await using var connection = await RabbitMqAddress.Factory(vhost.ConnectionString, "tests").CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true,
            publisherConfirmationTrackingEnabled: true));

        await probe.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            await channel.QueueDeclareAsync(QueueNames.MigrationSaga, durable: true, exclusive: false, autoDelete: false);
            await Eventually.Get(() => Task.FromResult(backlog.Current), depth => depth == 0, "an empty queue read as 0");

            for (var i = 0; i < 7; i++)
                await channel.BasicPublishAsync(string.Empty, QueueNames.MigrationSaga, "{}"u8.ToArray());
            await Eventually.Get(() => Task.FromResult(backlog.Current), depth => depth == 7, "the 7 waiting messages counted");

            await channel.QueueDeleteAsync(QueueNames.MigrationSaga);
            await Eventually.Get(() => Task.FromResult(backlog.Current), depth => depth is null, "a missing queue read as unknown");

            await channel.QueueDeclareAsync(QueueNames.MigrationSaga, durable: true, exclusive: false, autoDelete: false);
            await channel.BasicPublishAsync(string.Empty, QueueNames.MigrationSaga, "{}"u8.ToArray());
            await Eventually.Get(() => Task.FromResult(backlog.Current), depth => depth == 1, "the queue counted again on a new channel");
        }
        finally
        {
            await probe.StopAsync(CancellationToken.None);
        }
    }
}
