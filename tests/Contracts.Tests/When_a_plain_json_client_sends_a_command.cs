using System.Text.Json;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;

namespace Orchestrator.Contracts.Tests;

/// <summary>The wire format is the public API: what a service without MassTransit writes must read back whole.</summary>
public sealed class When_a_plain_json_client_sends_a_command
{
    static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    [Fact]
    public void Should_read_a_camel_case_body_with_only_the_required_members()
    {
        const string body = """{"migrationId":"6f1c4c2e-8f43-4c43-9a52-0a0f4b1e2c11","vmId":"vm-1","sourceHost":"a","targetHost":"b","hypervisor":"sim"}""";

        var command = JsonSerializer.Deserialize<StartMigration>(body, Web)!;

        command.MigrationId.ShouldBe(Guid.Parse("6f1c4c2e-8f43-4c43-9a52-0a0f4b1e2c11"));
        command.VmId.ShouldBe("vm-1");
        command.Strategy.ShouldBeNull();
        command.Policy.ShouldBeNull();
    }

    [Fact]
    public void Should_read_a_policy_and_round_trip_unchanged()
    {
        var command = new StartMigration(Guid.NewGuid(), "vm-2", "a", "b", HypervisorKinds.Qemu, MigrationStrategies.Hybrid,
            new MigrationPolicy(MaxDowntimeMs: 500, AllowPostCopy: true, Priority: 7), "svc-placement");

        var json = JsonSerializer.Serialize(command, Web);

        json.ShouldContain("\"maxDowntimeMs\":500");
        JsonSerializer.Deserialize<StartMigration>(json, Web).ShouldBe(command);
    }

    [Fact]
    public void Should_read_reports_and_commands_of_workers_that_know_nothing_of_incoming_uris_or_vm_definitions()
    {
        var id = "6f1c4c2e-8f43-4c43-9a52-0a0f4b1e2c11";

        JsonSerializer.Deserialize<TargetPrepared>($$"""{"migrationId":"{{id}}","host":"b","epoch":1,"timestamp":"2025-01-01T00:00:00Z"}""", Web)!
            .IncomingUri.ShouldBeNull();
        JsonSerializer.Deserialize<PreflightPassed>($$"""{"migrationId":"{{id}}","memoryBytes":1,"predictedDowntimeMs":2,"timestamp":"2025-01-01T00:00:00Z"}""", Web)!
            .VmDefinition.ShouldBeNull();
        JsonSerializer.Deserialize<PrepareTarget>($$"""{"migrationId":"{{id}}","epoch":1,"vmId":"v","sourceHost":"a","targetHost":"b","hypervisor":"qemu"}""", Web)!
            .VmDefinition.ShouldBeNull();
        var transfer = JsonSerializer.Deserialize<BeginTransfer>(
            $$"""{"migrationId":"{{id}}","epoch":1,"vmId":"v","sourceHost":"a","targetHost":"b","strategy":"precopy","maxDowntimeMs":300,"maxBandwidthMiBps":64}""", Web)!;
        transfer.IncomingUri.ShouldBeNull();
        transfer.MaxBandwidthMiBps.ShouldBe(64);
    }

    [Fact]
    public void Should_round_trip_the_destination_uri_a_target_reports()
    {
        var prepared = new TargetPrepared(Guid.NewGuid(), "b", 2, DateTimeOffset.UnixEpoch, "tcp:10.1.2.3:49152");

        var json = JsonSerializer.Serialize(prepared, Web);

        json.ShouldContain("\"incomingUri\":\"tcp:10.1.2.3:49152\"");
        JsonSerializer.Deserialize<TargetPrepared>(json, Web).ShouldBe(prepared);
    }

    [Fact]
    public void Should_name_one_command_queue_per_hypervisor_and_host() =>
        QueueNames.Worker(HypervisorKinds.Sim, "host-a").ShouldNotBe(QueueNames.Worker(HypervisorKinds.Qemu, "host-a"));

    [Fact]
    public void Should_know_every_strategy_the_contract_documents() =>
        new[] { "precopy", "postcopy", "hybrid", "auto" }.ShouldAllBe(s => MigrationStrategies.IsKnown(s));
}
