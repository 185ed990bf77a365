using System.Diagnostics;
using System.Text.Json;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Tests;

[Trait("Category", "Integration")]
[Collection(RabbitMqCollection.Name)]
public sealed class When_a_service_sends_plain_json_over_rabbitmq(RabbitMqOrchestrator orchestrator) : IAsyncLifetime
{
    ApiServer _api = null!;

    public async ValueTask InitializeAsync() => _api = await ApiServer.StartAsync(orchestrator.Settings);

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    static string StartBody(Guid id, string? vmId, string source, string target, string hypervisor) => JsonSerializer.Serialize(new
    {
        migrationId = id,
        vmId,
        sourceHost = source,
        targetHost = target,
        hypervisor,
        requestedBy = "placement-service",
    });

    [Fact]
    public async Task Should_run_the_migration_to_completion_with_every_step_in_the_stream_and_the_cli_showing_it()
    {
        await using var client = await PlainAmqpClient.ConnectAsync();
        var stateChanges = await client.Subscribe("Orchestrator.Contracts:MigrationStateChanged");
        var id = Guid.NewGuid();

        await client.Publish(QueueNames.StartMigration, StartBody(id, "vm-e2e-1", "e2e-a", "e2e-b", HypervisorKinds.Sim));
        var summary = await orchestrator.WaitForEnd(id);

        summary!.State.ShouldBe(MigrationStates.Completed);
        summary.RequestedBy.ShouldBe("placement-service");
        summary.RunningOn.ShouldBe("e2e-b");
        await using var session = orchestrator.Store.QuerySession();
        var events = await session.History(id);
        var kinds = events.Where(e => e.Data is not MigrationStateChanged).Select(e => e.Data.GetType().Name).ToList();
        kinds.Take(5).ShouldBe([nameof(MigrationRequested), nameof(MigrationAdmitted), nameof(PreflightPassed), nameof(MigrationPredicted),
            nameof(TargetPrepared)]);
        kinds.ShouldContain(nameof(StopAndCopyCompleted));
        kinds.ShouldContain(nameof(SwitchoverCompleted));
        kinds.TakeLast(2).ShouldBe([nameof(SourceCleanedUp), nameof(MigrationCompleted)]);
        events.Select(e => e.Data).OfType<PreCopyRoundCompleted>().Select(r => r.Round).Order().ShouldBe(Enumerable.Range(1, summary.Rounds));
        events.ShouldAllBe(e => e.CorrelationId == id.ToString());
        events.Select(e => e.Version).ShouldBe(Enumerable.Range(1, events.Count).Select(v => (long)v));
        events.ShouldAllBe(e => e.CausationId != null);

        // Other services follow every transition through the integration events.
        var changes = await Eventually.Get(() => Task.FromResult(Snapshot(stateChanges)
                .Select(body => JsonDocument.Parse(body).RootElement.GetProperty("message"))
                .Where(m => m.GetProperty("migrationId").GetGuid() == id).ToList()),
            c => c.Any(m => m.GetProperty("toState").GetString() == MigrationStates.Completed), "the Completed state change");
        changes.Select(m => m.GetProperty("toState").GetString()).ShouldBe(
            [MigrationStates.Checking, MigrationStates.Preparing, MigrationStates.PreCopying, MigrationStates.SwitchingOver,
             MigrationStates.CleaningUp, MigrationStates.Completed]);
        changes.Skip(1).Select(m => m.GetProperty("fromState").GetString()).ShouldBe(
            changes.SkipLast(1).Select(m => m.GetProperty("toState").GetString()));
        // The same state changes are on the stream, each the last event of its transition.
        var recorded = events.Where(e => e.Data is MigrationStateChanged).ToList();
        recorded.Select(e => ((MigrationStateChanged)e.Data).ToState).ShouldBe(changes.Select(m => m.GetProperty("toState").GetString()));
        events[^1].ShouldBe(recorded[^1]);

        var history = await RunCli("history", id.ToString());
        history.ExitCode.ShouldBe(0);
        history.Output.ShouldContain("MigrationCompleted");
        history.Output.ShouldContain("PreCopyRoundCompleted");
        history.Output.ShouldContain("Preparing → PreCopying");
        var status = await RunCli("show", id.ToString());
        status.ExitCode.ShouldBe(0);
        status.Output.ShouldContain("Completed");
        (await RunCli("show", Guid.NewGuid().ToString())).ExitCode.ShouldBe(4);
        var audit = await RunCli("audit", "verify", id.ToString());
        audit.ExitCode.ShouldBe(0, audit.Output);
        audit.Output.ShouldContain("intact");
        var export = await RunCli("audit", "export", id.ToString());
        export.ExitCode.ShouldBe(0, export.Output);
        export.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(line => line.StartsWith('{')).ShouldBe(events.Count);
        var preparing = recorded.First(e => ((MigrationStateChanged)e.Data).ToState == MigrationStates.Preparing).Version;
        var replay = await RunCli("audit", "replay", id.ToString(), "--version", preparing.ToString(System.Globalization.CultureInfo.InvariantCulture));
        replay.ExitCode.ShouldBe(0, replay.Output);
        replay.Output.ShouldContain(MigrationStates.Preparing);
    }

    [Fact]
    public async Task Should_reject_bad_commands_with_a_reason_the_sender_sees_and_keep_working()
    {
        await using var client = await PlainAmqpClient.ConnectAsync();
        var rejections = await client.Subscribe("Orchestrator.Contracts:MigrationRejected");
        var missingVm = Guid.NewGuid();
        var sameHosts = Guid.NewGuid();
        var unknownHypervisor = Guid.NewGuid();
        var good = Guid.NewGuid();

        await client.Publish(QueueNames.StartMigration, StartBody(missingVm, null, "e2e-a", "e2e-b", HypervisorKinds.Sim));
        await client.Publish(QueueNames.StartMigration, StartBody(sameHosts, "vm-e2e-2", "e2e-a", "e2e-a", HypervisorKinds.Sim));
        await client.Publish(QueueNames.StartMigration, StartBody(unknownHypervisor, "vm-e2e-3", "e2e-a", "e2e-b", "vmware"));
        await client.Publish(QueueNames.StartMigration, StartBody(good, "vm-e2e-4", "e2e-a", "e2e-b", HypervisorKinds.Sim));

        (await orchestrator.WaitForEnd(missingVm))!.Reason.ShouldNotBeNull().ShouldContain("VmId is required");
        (await orchestrator.WaitForEnd(sameHosts))!.Reason.ShouldNotBeNull().ShouldContain("two different hosts");
        (await orchestrator.WaitForEnd(unknownHypervisor))!.Reason.ShouldNotBeNull().ShouldContain("'vmware' is unknown");
        (await orchestrator.WaitForEnd(good))!.State.ShouldBe(MigrationStates.Completed);

        // What a plain AMQP subscriber receives: MassTransit's JSON envelope, the event under "message".
        var published = await Eventually.Get(() => Task.FromResult(Snapshot(rejections)), r => r.Count >= 3, "three published rejections");
        var messages = published.Select(body => JsonDocument.Parse(body).RootElement.GetProperty("message")).ToList();
        foreach (var id in new[] { missingVm, sameHosts, unknownHypervisor })
        {
            messages.ShouldContain(m => m.GetProperty("migrationId").GetGuid() == id
                && m.GetProperty("reasonCode").GetString() == RejectionCodes.InvalidCommand
                && m.GetProperty("reason").GetString()!.Length > 0, string.Join(Environment.NewLine, published));
        }
    }

    [Fact]
    public async Task Should_move_a_body_that_is_not_json_to_the_error_queue_and_keep_consuming()
    {
        await using var client = await PlainAmqpClient.ConnectAsync();
        var errorQueue = QueueNames.StartMigration + "_error";
        var before = await client.MessageCount(errorQueue);
        var good = Guid.NewGuid();

        await client.Publish(QueueNames.StartMigration, "this is not json {");
        await client.Publish(QueueNames.StartMigration, StartBody(good, "vm-e2e-5", "e2e-a", "e2e-b", HypervisorKinds.Sim));

        (await orchestrator.WaitForEnd(good))!.State.ShouldBe(MigrationStates.Completed);
        await Eventually.Get(() => client.MessageCount(errorQueue), count => count == before + 1, "the malformed body in the error queue");
    }

    [Fact]
    public async Task Should_let_an_operator_migrate_from_the_cli_and_wait_for_the_outcome()
    {
        var result = await RunCli("migrate", "--vm", "vm-e2e-cli", "--from", "e2e-a", "--to", "e2e-b", "--wait");

        result.ExitCode.ShouldBe(0, result.Output);
        result.Output.ShouldContain("Completed");
        // The API refuses what the workflow would reject for a reason it can see: exit 2, with the field and the reason.
        var refused = await RunCli("migrate", "--vm", "vm-e2e-cli-2", "--from", "e2e-a", "--to", "e2e-a", "--wait");
        refused.ExitCode.ShouldBe(2, refused.Output);
        refused.Output.ShouldContain("targetHost");
    }

    [Fact]
    public async Task Should_let_an_operator_cancel_a_running_migration_from_the_cli()
    {
        var started = await RunCli("migrate", "--vm", RabbitMqOrchestrator.CancelledVm, "--from", "e2e-a", "--to", "e2e-b", "--max-bandwidth-mibps", "1", "--max-downtime-ms", "60000");
        started.ExitCode.ShouldBe(0, started.Output);
        var id = Guid.Parse(System.Text.RegularExpressions.Regex.Match(started.Output, "Migration ([0-9a-f-]{36}) requested").Groups[1].Value);
        await Eventually.Get(() => orchestrator.Summary(id), s => s?.State == MigrationStates.PreCopying, "the migration to copy");

        var cancel = await RunCli("cancel", id.ToString(), "--reason", "maintenance window closed");

        cancel.ExitCode.ShouldBe(0, cancel.Output);
        var summary = await orchestrator.WaitForEnd(id);
        summary!.State.ShouldBe(MigrationStates.Cancelled);
        summary.Reason.ShouldBe("maintenance window closed");
        summary.RunningOn.ShouldBe("e2e-a");
    }

    [Fact]
    public async Task Should_roll_back_when_no_worker_serves_the_target_host()
    {
        await using var client = await PlainAmqpClient.ConnectAsync();
        var id = Guid.NewGuid();

        await client.Publish(QueueNames.StartMigration, StartBody(id, "vm-e2e-nowhere", "e2e-a", "e2e-nowhere", HypervisorKinds.Sim));
        var summary = await orchestrator.WaitForEnd(id);

        summary!.State.ShouldBe(MigrationStates.RolledBack);
        summary.Reason.ShouldNotBeNull().ShouldContain("e2e-nowhere did not confirm it was prepared");
        summary.RunningOn.ShouldBe("e2e-a");
    }

    static List<string> Snapshot(List<string> received)
    {
        lock (received)
            return [.. received];
    }

    async Task<(int ExitCode, string Output)> RunCli(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "orchestrator.dll"));
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        start.Environment["ConnectionStrings__Postgres"] = orchestrator.Settings.Postgres;
        start.Environment["ConnectionStrings__RabbitMq"] = orchestrator.Settings.RabbitMq;
        start.Environment["Orchestrator__Schema"] = orchestrator.Settings.Schema;
        start.Environment["COLUMNS"] = "200";
        // The operator commands go through the HTTP API with an operator's key; audit reads the store directly.
        start.Environment["ORCHESTRATOR_API"] = _api.Address.ToString();
        start.Environment["ORCHESTRATOR_API_KEY"] = ApiServer.Keys[global::Orchestrator.Api.ApiRoles.Operator];
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, await output + await error);
    }
}
