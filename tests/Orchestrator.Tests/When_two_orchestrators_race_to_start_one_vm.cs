using Marten;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orchestrator.Contracts;
using Orchestrator.Hosting;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Tests;

/// <summary>A second `orchestrator serve` instance joins the shared one: both consume the saga queue, one PostgreSQL.</summary>
[Trait("Category", "Integration")]
[Collection(RabbitMqCollection.Name)]
public sealed class When_two_orchestrators_race_to_start_one_vm(RabbitMqOrchestrator orchestrator)
{
    [Fact]
    public async Task Should_run_exactly_one_migration_and_reject_the_others_with_a_reason()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddEventStore(orchestrator.Settings).AddBus(orchestrator.Settings, new BusOptions { Workflows = true });
        using var second = builder.Build();
        await second.StartAsync();
        try
        {
            var commands = Enumerable.Range(0, 20)
                .Select(_ => new StartMigration(NewId.NextGuid(), RabbitMqOrchestrator.ContestedVm, "e2e-a", "e2e-b", HypervisorKinds.Sim,
                    Policy: new MigrationPolicy(MaxDowntimeMs: 60000, MaxBandwidthMiBps: 1)))
                .ToList();
            var endpoints = new[]
            {
                await orchestrator.Services.GetRequiredService<IBus>().GetSendEndpoint(new Uri($"queue:{QueueNames.StartMigration}")),
                await second.Services.GetRequiredService<IBus>().GetSendEndpoint(new Uri($"queue:{QueueNames.StartMigration}")),
            };
            await Task.WhenAll(commands.Select((command, i) => endpoints[i % 2].Send(command)));

            var ids = commands.Select(c => c.MigrationId).ToArray();
            var summaries = await Eventually.Get(async () =>
            {
                await using var session = orchestrator.Store.QuerySession();
                return await session.Query<MigrationSummary>().Where(s => s.Id.IsOneOf(ids)).ToListAsync();
            }, all => all.Count == 20 && all.All(s => s.IsTerminal), "all 20 migrations to end", TimeSpan.FromSeconds(60));

            summaries.Count(s => s.State == MigrationStates.Completed).ShouldBe(1, string.Join(", ", summaries.Select(s => $"{s.State}: {s.Reason}")));
            var rejected = summaries.Where(s => s.State == MigrationStates.Rejected).ToList();
            rejected.Count.ShouldBe(19);
            rejected.ShouldAllBe(s => s.RejectionCode == RejectionCodes.VmBusy && s.Reason!.Contains("already has an active migration"));
        }
        finally
        {
            await second.StopAsync();
        }
    }
}
