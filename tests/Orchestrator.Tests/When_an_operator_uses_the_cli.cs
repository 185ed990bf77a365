using System.Text.Json;
using Orchestrator.Api;
using Orchestrator.Cli;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Tests;

/// <summary>The <c>orchestrator</c> executable as an operator runs it, against the HTTP API: output a script can read, exit codes it can trust.</summary>
[Trait("Category", "Integration")]
[Collection(RabbitMqCollection.Name)]
public sealed class When_an_operator_uses_the_cli(RabbitMqOrchestrator orchestrator) : IAsyncLifetime
{
    ApiServer _api = null!;

    public async ValueTask InitializeAsync() => _api = await ApiServer.StartAsync(orchestrator.Settings);

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    Task<(int ExitCode, string Output)> Cli(string role, params string[] arguments) => CliWithKey(ApiServer.Keys[role], arguments);

    Task<(int ExitCode, string Output)> CliWithKey(string key, params string[] arguments) => OrchestratorProcess.Run(
        new Dictionary<string, string> { ["ORCHESTRATOR_API"] = _api.Address.ToString(), ["ORCHESTRATOR_API_KEY"] = key }, arguments);

    [Fact]
    public async Task Should_migrate_and_answer_every_read_command_in_json()
    {
        var (migrated, migrateOutput) = await Cli(ApiRoles.Operator, "migrate", "--vm", "vm-cli-1", "--from", "e2e-a", "--to", "e2e-b", "--wait", "--output", "json");
        migrated.ShouldBe(ExitCodes.Ok, migrateOutput);
        // --wait with json: one summary a line as it changes, the last one Completed.
        var last = JsonDocument.Parse(migrateOutput.Trim().Split('\n')[^1]).RootElement;
        last.GetProperty("state").GetString().ShouldBe(MigrationStates.Completed);
        var id = last.GetProperty("id").GetGuid();

        var (shown, showOutput) = await Cli(ApiRoles.Viewer, "show", id.ToString(), "-o", "json");
        var (listed, listOutput) = await Cli(ApiRoles.Viewer, "list", "--vm", "vm-cli-1", "-o", "json");
        var (history, historyOutput) = await Cli(ApiRoles.Auditor, "history", id.ToString(), "-o", "json");

        (shown, listed, history).ShouldBe((0, 0, 0), showOutput + listOutput + historyOutput);
        JsonDocument.Parse(showOutput).RootElement.GetProperty("runningOn").GetString().ShouldBe("e2e-b");
        var page = JsonDocument.Parse(listOutput).RootElement;
        page.GetProperty("total").GetInt32().ShouldBe(1);
        page.GetProperty("items")[0].GetProperty("id").GetGuid().ShouldBe(id);
        var events = JsonDocument.Parse(historyOutput).RootElement.EnumerateArray().Select(e => e.GetProperty("type").GetString()).ToList();
        events.First().ShouldBe("MigrationRequested");
        events.Last(type => type != "MigrationStateChanged").ShouldBe("MigrationCompleted");
        events.Last().ShouldBe("MigrationStateChanged");
    }

    [Fact]
    public async Task Should_drain_a_host_and_follow_the_drain_to_its_end()
    {
        // First the plan: each VM's target, order, bandwidth and predicted finish, and nothing started.
        var (planned, planOutput) = await Cli(ApiRoles.Operator, "drain", "e2e-drained", "--to", "e2e-b", "--plan", "-o", "json");
        planned.ShouldBe(ExitCodes.Ok, planOutput);
        var plan = JsonDocument.Parse(planOutput).RootElement;
        var planVms = plan.GetProperty("migrations").EnumerateArray().ToList();
        planVms.Select(m => m.GetProperty("vmId").GetString()).Order().ShouldBe(RabbitMqOrchestrator.DrainedVms);
        planVms.Select(m => m.GetProperty("order").GetInt32()).ShouldBe([1, 2, 3]);
        planVms.ShouldAllBe(m => m.GetProperty("targetHost").GetString() == "e2e-b" && m.GetProperty("bandwidthMiBps").GetDouble() > 0
            && m.GetProperty("endSeconds").GetDouble() > m.GetProperty("startSeconds").GetDouble());
        plan.GetProperty("totalSeconds").GetDouble().ShouldBe(planVms.Max(m => m.GetProperty("endSeconds").GetDouble()), 0.01);
        plan.GetProperty("maxAtOnce").GetInt32().ShouldBe(2, "the admission limits: two outbound per host");
        planVms[2].GetProperty("startSeconds").GetDouble().ShouldBeGreaterThan(0, "the third waits for one of the first two");
        var (plainPlan, plainOutput) = await Cli(ApiRoles.Operator, "drain", "e2e-drained", "--to", "e2e-b", "--plan");
        plainPlan.ShouldBe(ExitCodes.Ok, plainOutput);
        plainOutput.ShouldContain("nothing was started");
        var (_, listed) = await Cli(ApiRoles.Viewer, "list", "--vm", RabbitMqOrchestrator.DrainedVms[0], "-o", "json");
        JsonDocument.Parse(listed).RootElement.GetProperty("total").GetInt32().ShouldBe(0, "a plan starts no migration");

        var (code, output) = await Cli(ApiRoles.Operator, "drain", "e2e-drained", "--to", "e2e-b", "--wait", "-o", "json");

        code.ShouldBe(ExitCodes.Ok, output);
        var last = JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;
        last.GetProperty("state").GetString().ShouldBe("Drained");
        last.GetProperty("moved").GetInt32().ShouldBe(RabbitMqOrchestrator.DrainedVms.Length);
        last.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("vmId").GetString()).Order()
            .ShouldBe(RabbitMqOrchestrator.DrainedVms);
        // Its progress shows what the forecast recorded with its plan said beside what happened.
        last.GetProperty("predictedTotalSeconds").GetDouble().ShouldBeGreaterThan(0);
        last.GetProperty("elapsedSeconds").GetDouble().ShouldBeGreaterThan(0);
        last.GetProperty("items").EnumerateArray().ShouldAllBe(i => i.GetProperty("predictedEndSeconds").GetDouble() > 0
            && i.GetProperty("endedSeconds").GetDouble() > 0 && i.GetProperty("predictedOutcome").GetString() != null);
        // drain-status takes the start of the drain's id too, and a pipe gets plain lines with the whole ids.
        var drainId = last.GetProperty("drainId").GetGuid();
        var (status, statusOutput) = await Cli(ApiRoles.Viewer, "drain-status", drainId.ToString()[..13]);
        status.ShouldBe(ExitCodes.Ok, statusOutput);
        statusOutput.ShouldContain($"drain {drainId} of e2e-drained: Drained");
        statusOutput.ShouldContain("s predicted");
        statusOutput.ShouldContain(last.GetProperty("items")[0].GetProperty("migrationId").GetGuid().ToString());
        var forbidden = await Cli(ApiRoles.Service, "drain", "e2e-b", "--to", "e2e-a");
        forbidden.ExitCode.ShouldBe(ExitCodes.NotAllowed, forbidden.Output);
    }

    [Fact]
    public async Task Should_exit_with_a_code_a_script_can_trust_and_say_what_to_do()
    {
        var (started, startOutput) = await Cli(ApiRoles.Operator, "migrate", "--vm", "vm-cli-2", "--from", "e2e-a", "--to", "e2e-b", "--wait", "-o", "json");
        started.ShouldBe(ExitCodes.Ok, startOutput);
        var id = JsonDocument.Parse(startOutput.Trim().Split('\n')[^1]).RootElement.GetProperty("id").GetGuid();

        var notFound = await Cli(ApiRoles.Operator, "show", Guid.NewGuid().ToString());
        var refused = await Cli(ApiRoles.Operator, "cancel", id.ToString(), "--reason", "too late");
        var forbidden = await Cli(ApiRoles.Viewer, "cancel", id.ToString());
        var wrongKey = await CliWithKey("not-a-key", "list");
        var unreachable = await OrchestratorProcess.Run(new Dictionary<string, string> { ["ORCHESTRATOR_API"] = "http://127.0.0.1:1", ["ORCHESTRATOR_API_KEY"] = "x" }, "list");
        var usage = await Cli(ApiRoles.Operator, "show", "not-a-guid");

        notFound.ExitCode.ShouldBe(ExitCodes.NotFound, notFound.Output);
        notFound.Output.ShouldContain("No migration");
        refused.ExitCode.ShouldBe(ExitCodes.Refused, refused.Output);
        refused.Output.ShouldContain("cancel applies to Queued, Checking, Preparing and PreCopying");
        forbidden.ExitCode.ShouldBe(ExitCodes.NotAllowed, forbidden.Output);
        forbidden.Output.ShouldContain("operator key");
        wrongKey.ExitCode.ShouldBe(ExitCodes.NotAllowed, wrongKey.Output);
        wrongKey.Output.ShouldContain("ORCHESTRATOR_API_KEY");
        unreachable.ExitCode.ShouldBe(ExitCodes.Unreachable, unreachable.Output);
        unreachable.Output.ShouldContain("is 'orchestrator serve' running");
        usage.ExitCode.ShouldBe(ExitCodes.Usage, usage.Output);
    }
}
