using System.Collections.Concurrent;
using Marten;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Orchestrator.Contracts;
using Orchestrator.Hosting;
using Orchestrator.ReadModels.Audit.Ledger;

namespace Orchestrator.Tests;

/// <summary>Issue 15: serve signs a checkpoint of the ledger every N events and at shutdown, stores it and publishes it.</summary>
[Trait("Category", "Integration")]
public sealed class When_serve_takes_audit_checkpoints : IAsyncLifetime
{
    readonly TestSchema _schema = TestSchema.Create("auditsvc");
    readonly ConcurrentQueue<AuditCheckpointTaken> _published = new();
    static readonly string Seed = SigningKey.GenerateBase64();
    readonly SigningKey _key = SigningKey.FromBase64(Seed);
    DocumentStore _store = null!;
    IBusControl _bus = null!;

    public async ValueTask InitializeAsync()
    {
        _store = DocumentStore.For(options => Roles.Configure(options, new OrchestratorSettings(TestServices.Postgres, TestServices.RabbitMq, _schema.Name)));
        _bus = Bus.Factory.CreateUsingInMemory(cfg => cfg.ReceiveEndpoint("audit-checkpoints",
            endpoint => endpoint.Handler<AuditCheckpointTaken>(context =>
            {
                _published.Enqueue(context.Message);
                return Task.CompletedTask;
            })));
        await _bus.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _bus.StopAsync();
            await _store.DisposeAsync();
        }
        finally
        {
            await _schema.DisposeAsync();
        }
    }

    AuditCheckpointService Service() => new(_store, _bus, new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Audit:SigningKey"] = Seed,
        ["Audit:CheckpointEvery"] = "5",
        ["Audit:CheckpointSeconds"] = "3600",
    }).Build(), NullLogger<AuditCheckpointService>.Instance);

    async Task Append(int events)
    {
        await using var session = _store.LightweightSession();
        var id = Guid.NewGuid();
        session.Events.StartStream(id, Enumerable.Range(0, events).Select(i => (object)new MigrationAdmitted(id, i, DateTimeOffset.UtcNow)).ToArray());
        await session.SaveChangesAsync();
    }

    [Fact]
    public async Task Should_sign_every_n_events_and_at_shutdown_store_and_publish_each()
    {
        var service = Service();
        await Append(3);
        (await service.Tick(force: false, CancellationToken.None)).ShouldBeNull("3 of 5 events: not due");

        await Append(2);
        var due = await service.Tick(force: false, CancellationToken.None);

        due.ShouldNotBeNull().TreeSize.ShouldBe(5);
        due.IsSignedBy(_key.Public).ShouldBeTrue();
        var published = await Eventually.Get(() => Task.FromResult(_published.ToArray()), p => p.Length == 1, "the checkpoint published");
        published[0].RootHash.ShouldBe(due.RootHash);
        published[0].Signature.ShouldBe(due.Signature);

        await Append(1);
        await service.StopAsync(CancellationToken.None);

        var last = (await AuditLedger.Latest(_store)).ShouldNotBeNull();
        last.TreeSize.ShouldBe(6);
        (await LedgerVerifier.Verify(_store, [], _key.Public)).Intact.ShouldBeTrue();
        await Eventually.Get(() => Task.FromResult(_published.Count), count => count == 2, "the shutdown checkpoint published");
    }
}
