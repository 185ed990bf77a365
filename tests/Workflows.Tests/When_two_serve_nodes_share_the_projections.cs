using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orchestrator.Contracts;
using Orchestrator.Hosting;
using Orchestrator.ReadModels.Hosts;

namespace Orchestrator.Workflows.Tests;

/// <summary>
/// The asynchronous read models run on one serve node at a time (Marten's HotCold daemon): when that node stops,
/// another node of the same schema takes over, and the host load keeps following the events.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_two_serve_nodes_share_the_projections : IAsyncDisposable
{
    readonly TestSchema _schema = TestSchema.Create("hotcold");
    readonly OrchestratorSettings _settings;

    public When_two_serve_nodes_share_the_projections() => _settings = new(TestServices.Postgres, TestServices.RabbitMq, _schema.Name);

    readonly List<IHost> _nodes = [];

    [Fact]
    public async Task Should_move_the_projections_to_the_other_node_when_the_leader_stops()
    {
        var first = await StartNode();
        await Request("host-one");
        await WaitForHost(first, "host-one");

        // The second node starts while the first leads, then the first goes away.
        var second = await StartNode();
        await first.StopAsync();

        await Request("host-two");
        var load = await WaitForHost(second, "host-two");
        load.ShouldNotBeNull().Migrations.Count.ShouldBe(1);
    }

    async Task<IHost> StartNode()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddEventStore(_settings);
        var node = builder.Build();
        _nodes.Add(node);
        await node.StartAsync();
        return node;
    }

    /// <summary>A migration accepted from host-zero to <paramref name="target"/>, as the saga records it.</summary>
    async Task Request(string target)
    {
        await using var session = _nodes[^1].Services.GetRequiredService<IDocumentStore>().LightweightSession();
        var id = Guid.NewGuid();
        session.Events.StartStream(id, new MigrationRequested(id, $"vm-{target}", "host-zero", target, HypervisorKinds.Sim,
            MigrationStrategies.PreCopy, new MigrationPolicy(MaxDowntimeMs: 300), "hotcold-test", DateTimeOffset.UtcNow));
        await session.SaveChangesAsync();
    }

    static Task<HostLoad?> WaitForHost(IHost node, string name) =>
        Eventually.Get(async () =>
        {
            await using var session = node.Services.GetRequiredService<IDocumentStore>().QuerySession();
            return await session.Host(name);
        }, load => load is not null, $"the host load of {name}", TimeSpan.FromSeconds(60));

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.StopAsync();
            node.Dispose();
        }
        await _schema.DisposeAsync();
    }
}
