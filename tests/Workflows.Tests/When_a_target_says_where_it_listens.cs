using System.Collections.Concurrent;
using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Workflows.Tests;

/// <summary>
/// Source and target may be served by workers on different machines: what the target's worker needs from the source
/// (the VM's definition) and what the source's worker needs from the target (where the destination listens) travel
/// through the saga, and are recorded on the stream.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_a_target_says_where_it_listens
{
    [Fact]
    public async Task Should_pass_the_definition_to_the_target_and_the_destination_uri_to_the_source()
    {
        await using var orchestrator = await InMemoryOrchestrator.StartAsync();
        var commands = new ConcurrentQueue<object>();
        // Hosts no worker serves: the test plays both workers and keeps the commands they would get.
        foreach (var host in new[] { "far-src", "far-dst" })
        {
            var endpoint = orchestrator.Bus.ConnectReceiveEndpoint(QueueNames.Worker(HypervisorKinds.Sim, host), e =>
            {
                e.Handler<PrepareTarget>(context => Keep(context.Message));
                e.Handler<BeginTransfer>(context => Keep(context.Message));
            });
            await endpoint.Ready;
        }
        Task Keep(object command)
        {
            commands.Enqueue(command);
            return Task.CompletedTask;
        }
        var command = InMemoryOrchestrator.NewMigration("vm-far", source: "far-src", target: "far-dst");
        var id = command.MigrationId;
        const string definition = """{"memoryKiB":65528,"kernel":"/srv/guest.elf"}""";
        const string uri = "tcp:10.1.2.3:49152";

        await orchestrator.Start(command);
        await orchestrator.WaitFor(id, s => s.State == MigrationStates.Checking, "the pre-flight check");
        await orchestrator.Send(QueueNames.MigrationSaga, new PreflightPassed(id, 64L << 20, 100, DateTimeOffset.UtcNow, definition), id);
        var prepare = await Eventually.Get(() => Task.FromResult(commands.OfType<PrepareTarget>().FirstOrDefault()), p => p is not null, "PrepareTarget");
        await orchestrator.Send(QueueNames.MigrationSaga, new TargetPrepared(id, "far-dst", 1, DateTimeOffset.UtcNow, uri), id);
        var transfer = await Eventually.Get(() => Task.FromResult(commands.OfType<BeginTransfer>().FirstOrDefault()), t => t is not null, "BeginTransfer");

        prepare!.VmDefinition.ShouldBe(definition);
        prepare.TargetHost.ShouldBe("far-dst");
        transfer!.IncomingUri.ShouldBe(uri);
        transfer.SourceHost.ShouldBe("far-src");
        (await orchestrator.Summary(id))!.State.ShouldBe(MigrationStates.PreCopying);
        var events = await orchestrator.Events(id);
        events.OfType<TargetPrepared>().Single().IncomingUri.ShouldBe(uri);
        events.OfType<PreflightPassed>().Single().VmDefinition.ShouldBe(definition);
    }
}
