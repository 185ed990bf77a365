using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workflows.Liveness;

namespace Orchestrator.Workflows.Tests;

/// <summary>
/// The liveness queue on a real PostgreSQL: one <see cref="WorkerHeartbeat"/> a worker, for all its hosts, and a
/// <see cref="HostHeartbeat"/> alone, what earlier workers sent per host, each write every transfer's last sighting.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_workers_say_their_transfers_are_alive
{
    [Fact]
    public async Task Should_record_every_transfer_of_every_host_a_worker_names_in_one_heartbeat_and_still_take_one_hosts_heartbeat()
    {
        await using var orchestrator = await InMemoryOrchestrator.StartAsync();
        var (a1, a2, b1, moved, alone) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var at = new DateTimeOffset(2026, 12, 7, 15, 0, 0, TimeSpan.Zero);

        await orchestrator.Send(QueueNames.Liveness, new WorkerHeartbeat(
        [
            new HostHeartbeat("rack-a", [a1, a2, moved], at),
            // A transfer named under two hosts (its report raced a move): the later sighting wins.
            new HostHeartbeat("rack-b", [b1, moved], at.AddSeconds(1)),
        ], at));
        await orchestrator.Send(QueueNames.Liveness, new HostHeartbeat("rack-c", [alone], at.AddSeconds(2)));

        var seen = await Eventually.Get(async () =>
        {
            await using var session = orchestrator.Store.QuerySession();
            return (await session.LoadManyAsync<TransferLiveness>(a1, a2, b1, moved, alone)).ToDictionary(l => l.Id);
        }, found => found.Count == 5, "every transfer's liveness written");

        seen[a1].Host.ShouldBe("rack-a");
        seen[a2].SeenAt.ShouldBe(at);
        seen[b1].Host.ShouldBe("rack-b");
        seen[moved].Host.ShouldBe("rack-b");
        seen[moved].SeenAt.ShouldBe(at.AddSeconds(1));
        seen[alone].Host.ShouldBe("rack-c");
        seen[alone].SeenAt.ShouldBe(at.AddSeconds(2));
    }
}
