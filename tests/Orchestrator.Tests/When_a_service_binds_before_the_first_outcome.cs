using Microsoft.Extensions.Hosting;
using Orchestrator.Hosting;
using Orchestrator.Workflows.Migration;

namespace Orchestrator.Tests;

/// <summary>
/// A service that starts before anything has happened binds its queue to the outcome exchanges at once: on a RabbitMQ
/// virtual host of the test's own, a freshly started serve role has declared every integration event's exchange, and
/// orchestrator.events, where the same events go as CloudEvents.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_a_service_binds_before_the_first_outcome : IAsyncLifetime
{
    RabbitVhost _vhost = null!;
    readonly TestSchema _schema = TestSchema.Create("outcomes");
    OrchestratorSettings _settings = null!;

    public async ValueTask InitializeAsync()
    {
        _vhost = await RabbitVhost.Create("outcomes");
        var rabbit = _vhost.ConnectionString;
        _settings = new OrchestratorSettings(TestServices.Postgres, rabbit, _schema.Name);
    }

    public async ValueTask DisposeAsync()
    {
        await _vhost.DisposeAsync();
        await _schema.DisposeAsync();
    }

    [Fact]
    public async Task Should_find_every_outcome_exchange_declared_when_serve_has_started()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddEventStore(_settings).AddBus(_settings, new BusOptions { Workflows = true });
        using var serve = builder.Build();
        await serve.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            await using var client = await PlainAmqpClient.ConnectAsync(_settings.RabbitMq);
            // orchestrator.events is declared while serve starts: a queue binds to it at once (a bind to a missing exchange fails).
            (await client.ExchangeExists(Contracts.PublicContract.EventsExchange)).ShouldBeTrue();
            await client.Follow(Contracts.PublicContract.EventsExchange, "migration.completed");
            // The bus connects in the background: wait for it, not for any outcome (nothing is ever published here).
            var missing = await Eventually.Get(async () =>
            {
                var absent = new List<string>();
                foreach (var type in PublishedEvents.All)
                    if (!await client.ExchangeExists($"Orchestrator.Contracts:{type.Name}"))
                        absent.Add(type.Name);
                return absent;
            }, absent => absent.Count == 0, "every outcome exchange to be declared", TimeSpan.FromSeconds(30));
            missing.ShouldBeEmpty();
            (await client.ExchangeExists("Orchestrator.Contracts:IMigrationEvent")).ShouldBeFalse();
        }
        finally
        {
            await serve.StopAsync(TestContext.Current.CancellationToken);
        }
    }
}
