using Marten;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orchestrator.Contracts;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Bench;

/// <summary>Sends migrations to a serve host's intake and waits until every one of them has ended.</summary>
public static class SimBatch
{
    /// <summary><paramref name="migrations"/> sim migrations among <paramref name="hosts"/>, one every <paramref name="pace"/>.</summary>
    public static async Task Run(IHost serve, IReadOnlyList<string> hosts, string vmPrefix, int migrations, TimeSpan pace)
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

        var store = serve.Services.GetRequiredService<IDocumentStore>();
        while (true)
        {
            await using var session = store.QuerySession();
            var ended = await session.Query<MigrationSummary>()
                .CountAsync(s => s.Id.IsOneOf(ids) && s.State.IsOneOf(MigrationStates.Completed, MigrationStates.RolledBack,
                    MigrationStates.Cancelled, MigrationStates.Rejected, MigrationStates.Failed));
            if (ended == migrations)
                return;
            await Task.Delay(20);
        }
    }
}
