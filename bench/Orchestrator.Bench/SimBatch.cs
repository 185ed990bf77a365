using Marten;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orchestrator.Contracts;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Bench;

/// <summary>Sends migrations to a serve host's intake and waits until every one of them has ended; returns when the last one did.</summary>
public static class SimBatch
{
    /// <summary><paramref name="migrations"/> sim migrations among <paramref name="hosts"/>, one every <paramref name="pace"/>.</summary>
    public static async Task<DateTimeOffset> Run(IHost serve, IReadOnlyList<string> hosts, string vmPrefix, int migrations, TimeSpan pace)
    {
        var endpoint = await serve.Services.GetRequiredService<IBus>().GetSendEndpoint(new Uri($"queue:{QueueNames.StartMigration}"));
        var ids = new Guid[migrations];
        for (var i = 0; i < migrations; i++)
        {
            var command = new StartMigration(NewId.NextGuid(), $"{vmPrefix}-{i}", hosts[i % hosts.Count], hosts[(i + 1) % hosts.Count],
                HypervisorKinds.Sim, MigrationStrategies.PreCopy);
            ids[i] = command.MigrationId;
            await endpoint.Send(command);
            if (pace > TimeSpan.Zero)
                await Task.Delay(pace);
        }

        // Polled with plain SQL every 100 ms (a LINQ query every few milliseconds cost the measured run CPU and JIT
        // work of its own); the batch's end is the moment the last migration was recorded ended, not when it was seen.
        var store = serve.Services.GetRequiredService<IDocumentStore>();
        var table = store.Options.Schema.For<MigrationSummary>();
        string[] terminal = [MigrationStates.Completed, MigrationStates.RolledBack, MigrationStates.Cancelled, MigrationStates.Rejected, MigrationStates.Failed];
        while (true)
        {
            await using var session = store.QuerySession();
            var ended = await session.QueryAsync<EndedSoFar>(
                $"select json_build_object('Count', count(*), 'Last', max((data ->> 'EndedAt')::timestamptz)) from {table} "
                + "where id = ANY(?) and data ->> 'State' = ANY(?)",
                ids, terminal);
            if (ended[0].Count == migrations)
                return ended[0].Last ?? DateTimeOffset.UtcNow;
            await Task.Delay(100);
        }
    }

    sealed record EndedSoFar(long Count, DateTimeOffset? Last);
}
