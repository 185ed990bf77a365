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

    [Fact]
    public async Task Should_keep_the_later_sighting_when_an_older_heartbeat_arrives_after_it_and_write_rows_marten_reads_as_its_own()
    {
        await using var orchestrator = await InMemoryOrchestrator.StartAsync();
        var (transfer, marker, byMarten) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var at = new DateTimeOffset(2026, 12, 7, 15, 0, 0, TimeSpan.Zero);

        await orchestrator.Send(QueueNames.Liveness, new HostHeartbeat("rack-new", [transfer], at.AddSeconds(10)));
        await Eventually.Get(() => Load(orchestrator, transfer), found => found is not null, "the later sighting written");
        // The older heartbeat, with a marker in the same message: once the marker is there, the message was applied.
        await orchestrator.Send(QueueNames.Liveness, new WorkerHeartbeat(
        [
            new HostHeartbeat("rack-old", [transfer], at),
            new HostHeartbeat("rack-old", [marker], at),
        ], at));
        await Eventually.Get(() => Load(orchestrator, marker), found => found is not null, "the older heartbeat applied");

        var kept = (await Load(orchestrator, transfer))!;
        kept.Host.ShouldBe("rack-new");
        kept.SeenAt.ShouldBe(at.AddSeconds(10));

        // Its rows carry what Marten's own upsert writes beside the document.
        await using (var session = orchestrator.Store.LightweightSession())
        {
            session.Store(new TransferLiveness { Id = byMarten, Host = "rack-x", SeenAt = at });
            await session.SaveChangesAsync();
        }
        await using var query = orchestrator.Store.QuerySession();
        var types = await query.AdvancedSql.QueryAsync<string>(
            $"select mt_dotnet_type from {orchestrator.Store.Options.DatabaseSchemaName}.mt_doc_transferliveness where id = any(?) order by id = ?",
            CancellationToken.None, new[] { transfer, byMarten }, byMarten);
        types.Count.ShouldBe(2);
        types[0].ShouldBe(types[1]);
    }

    static async Task<TransferLiveness?> Load(InMemoryOrchestrator orchestrator, Guid id)
    {
        await using var session = orchestrator.Store.QuerySession();
        return await session.LoadAsync<TransferLiveness>(id);
    }
}
