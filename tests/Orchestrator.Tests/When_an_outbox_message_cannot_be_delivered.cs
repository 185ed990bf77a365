using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orchestrator.Contracts;
using Orchestrator.Hosting;
using Orchestrator.Workflows.Outbox;

namespace Orchestrator.Tests;

/// <summary>
/// A committed message the broker will not take (here: a queue name RabbitMQ refuses) is a poison: it is retried with
/// backoff, then set aside as a dead letter with its reason, and the messages behind it are delivered meanwhile.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_an_outbox_message_cannot_be_delivered : IAsyncLifetime
{
    readonly TestSchema _schema = TestSchema.Create("poison");
    OrchestratorSettings _settings = null!;
    RabbitVhost _vhost = null!;

    readonly string _goodQueue = $"test-outbox-good-{Guid.NewGuid():N}";
    IHost _serve = null!;

    IDocumentStore Store => _serve.Services.GetRequiredService<IDocumentStore>();

    public async ValueTask InitializeAsync()
    {
        // A vhost of its own: this serve consumes the orchestrator's queues, and on the run's vhost it would take commands
        // meant for the shared orchestrator of the other tests.
        _vhost = await RabbitVhost.Create("outbox");
        _settings = new(TestServices.Postgres, _vhost.ConnectionString, _schema.Name);
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddEventStore(_settings).AddBus(_settings, new BusOptions { Workflows = true });
        _serve = builder.Build();
        await _serve.StartAsync();
    }

    [Fact]
    public async Task Should_set_it_aside_without_holding_up_the_others()
    {
        // Both as a transition leaves them when its process dies after the commit: the poison first in line.
        var longAgo = DateTimeOffset.UtcNow.AddMinutes(-1);
        var poison = Orphan(new string('x', 300), longAgo);
        var good = Orphan(_goodQueue, longAgo.AddSeconds(1));
        await using (var session = Store.LightweightSession())
        {
            session.Store(poison, good);
            await session.SaveChangesAsync();
        }

        await using var amqp = await PlainAmqpClient.ConnectAsync(_settings.RabbitMq);
        await Eventually.Get(() => amqp.MessageCount(_goodQueue), count => count == 1, "the message behind the poison to be delivered");
        // Delivered while the poison was still being retried, not after it was given up.
        (await Load<DeadLetter>(poison.Id)).ShouldBeNull();

        var letter = await Eventually.Get(() => Load<DeadLetter>(poison.Id), l => l is not null, "the poison to be set aside",
            TimeSpan.FromSeconds(60));
        letter.ShouldNotBeNull();
        letter.Source.ShouldBe(DeadLetterSources.Outbox);
        letter.MigrationId.ShouldBe(poison.MigrationId);
        letter.Attempts.ShouldBe(DeliveryFailures.MaxAttempts);
        letter.Body.ShouldBe(poison.Body);
        letter.Reason.ShouldNotBeNullOrWhiteSpace();
        (await Load<OutboxMessage>(poison.Id)).ShouldBeNull();
        (await Load<OutboxMessage>(good.Id)).ShouldBeNull();
        (await amqp.MessageCount(_goodQueue)).ShouldBe(1u);
    }

    static OutboxMessage Orphan(string queue, DateTimeOffset createdAt)
    {
        var row = OutboxMessages.Create(Guid.NewGuid(), queue, new CancelMigration(Guid.NewGuid(), "outbox test"));
        row.CreatedAt = createdAt;
        row.Message = null;
        return row;
    }

    async Task<T?> Load<T>(Guid id)
        where T : class
    {
        await using var session = Store.QuerySession();
        return await session.LoadAsync<T>(id);
    }

    public async ValueTask DisposeAsync()
    {
        await _serve.StopAsync();
        _serve.Dispose();
        await _vhost.DisposeAsync();
        await _schema.DisposeAsync();
    }
}
