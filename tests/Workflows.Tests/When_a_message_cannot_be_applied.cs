using Marten;
using Npgsql;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workflows.Admission;
using Orchestrator.Workflows.Outbox;

namespace Orchestrator.Workflows.Tests;

/// <summary>
/// Poison isolation for inputs: a message whose transaction fails for good (here a PostgreSQL data error: a NUL that
/// jsonb cannot store) is set aside as a dead letter with its reason, and its migration ends with that reason at once,
/// not by a timeout minutes later. The test plays the workers.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_a_message_cannot_be_applied
{
    static Task<InMemoryOrchestrator> Start(Action<AdmissionOptions>? admission = null) => InMemoryOrchestrator.StartAsync(admission: admission, timeouts: timeouts =>
        (timeouts.Prepare, timeouts.Switchover, timeouts.Cleanup, timeouts.Rollback) =
        (TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(10)));

    [Fact]
    public async Task Should_set_a_report_aside_and_fail_its_migration_with_the_reason()
    {
        await using var orchestrator = await Start();
        // Hosts no worker serves: the test answers for them. No timeout can end this migration within the test.
        var command = InMemoryOrchestrator.NewMigration("vm-poison-report", source: "poison-src", target: "poison-dst",
            policy: new MigrationPolicy(ProgressTimeoutSeconds: 600));
        await orchestrator.Start(command);
        var id = command.MigrationId;
        await orchestrator.WaitFor(id, s => s.State == MigrationStates.Checking, "the pre-flight check");
        await orchestrator.Send(QueueNames.MigrationSaga, new PreflightPassed(id, 1L << 30, 100, DateTimeOffset.UtcNow), id);
        await orchestrator.WaitFor(id, s => s.State == MigrationStates.Preparing, "the target to be prepared");
        await orchestrator.Send(QueueNames.MigrationSaga, new TargetPrepared(id, "poison-dst", 1, DateTimeOffset.UtcNow), id);
        await orchestrator.WaitFor(id, s => s.State == MigrationStates.PreCopying, "the transfer");

        // A worker's report that the saga's transaction cannot store.
        await orchestrator.Send(QueueNames.MigrationSaga,
            new MigrationStepFailed(id, MigrationSteps.Transfer, "broken\0report", "poison-src", DateTimeOffset.UtcNow), id);

        var summary = await Eventually.Get(() => orchestrator.Summary(id), s => s is { IsTerminal: true }, "the migration to end",
            TimeSpan.FromSeconds(60));
        summary!.State.ShouldBe(MigrationStates.Failed);
        summary.Reason.ShouldNotBeNull().ShouldContain("A MigrationStepFailed for this migration could not be applied");
        summary.Reason.ShouldContain("recover it");
        await using var session = orchestrator.Store.QuerySession();
        var letter = (await session.Query<DeadLetter>().Where(l => l.MigrationId == id).ToListAsync()).ShouldHaveSingleItem();
        letter.Source.ShouldBe(DeadLetterSources.Input);
        letter.MessageType.ShouldBe(nameof(MigrationStepFailed));
        letter.Queue.ShouldBe(QueueNames.MigrationSaga);
        letter.Reason.ShouldContain("22P05");
        letter.Body.ShouldNotContain("\0");
        var setAside = (await orchestrator.Events(id)).OfType<MessageSetAside>().ShouldHaveSingleItem();
        setAside.MessageId.ShouldBe(letter.Id);
        setAside.Reason.ShouldBe(letter.Reason);
    }

    [Fact]
    public async Task Should_reject_a_start_that_cannot_be_stored()
    {
        await using var orchestrator = await Start();
        var command = InMemoryOrchestrator.NewMigration("vm-poison\0start", source: "poison-src", target: "poison-dst");

        // Straight to the saga, as the intake forwards it.
        await orchestrator.Send(QueueNames.MigrationSaga, command, command.MigrationId);

        var summary = await orchestrator.WaitForEnd(command.MigrationId);
        summary!.State.ShouldBe(MigrationStates.Rejected);
        summary.Reason.ShouldNotBeNullOrWhiteSpace();
        summary.VmId.ShouldNotBe(command.VmId);
    }

    [Fact]
    public async Task Should_give_back_the_slot_a_start_took_before_its_transaction_failed()
    {
        await using var orchestrator = await Start(admission => admission.MaxPerCluster = 1);
        // A start that passes every rule and finds room (its slot is taken in a transaction of its own), whose own
        // transaction PostgreSQL then refuses: a trigger on the saga's table, for this VM only.
        const string vm = "vm-refused-by-a-trigger";
        var schema = orchestrator.Store.Options.DatabaseSchemaName;
        await using (var connection = new NpgsqlConnection(TestServices.Postgres))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"""
                create function {schema}.refuse_the_vm() returns trigger language plpgsql as $$
                begin
                  if position('{vm}' in new.data::text) > 0 then
                    raise exception 'refused for the test' using errcode = '22023';
                  end if;
                  return new;
                end $$;
                create trigger refuse_the_vm before insert on {schema}.mt_doc_migrationstate for each row execute function {schema}.refuse_the_vm();
                """, connection);
            await create.ExecuteNonQueryAsync();
        }
        var command = InMemoryOrchestrator.NewMigration(vm, source: "poison-src", target: "poison-dst");

        await orchestrator.Start(command);

        var summary = await orchestrator.WaitForEnd(command.MigrationId);
        summary!.State.ShouldBe(MigrationStates.Rejected);
        summary.Reason.ShouldNotBeNull().ShouldContain("could not be stored");
        await using var session = orchestrator.Store.QuerySession();
        (await session.LoadAsync<AdmissionSlot>(command.MigrationId)).ShouldBeNull();
        // The cluster's one slot is free again: the next migration starts.
        var next = InMemoryOrchestrator.NewMigration("vm-after-the-refusal", source: "poison-src", target: "poison-dst");
        await orchestrator.Start(next);
        await orchestrator.WaitFor(next.MigrationId, s => s.State == MigrationStates.Checking, "the next migration to be admitted");
    }

    [Fact]
    public async Task Should_refuse_an_operator_command_that_cannot_be_applied_and_go_on()
    {
        await using var orchestrator = await Start();
        var command = InMemoryOrchestrator.NewMigration("vm-poison-cancel", source: "poison-src", target: "poison-dst");
        await orchestrator.Start(command);
        var id = command.MigrationId;
        await orchestrator.WaitFor(id, s => s.State == MigrationStates.Checking, "the pre-flight check");

        await orchestrator.Send(QueueNames.MigrationSaga, new CancelMigration(id, "cancel\0now", "tests"), id);

        var refusal = await Eventually.Get(async () => (await orchestrator.Events(id)).OfType<CommandRefused>().FirstOrDefault(),
            r => r is not null, "the cancel to be refused");
        refusal!.Command.ShouldBe("cancel");
        refusal.Reason.ShouldContain("set aside");
        (await orchestrator.Summary(id))!.State.ShouldBe(MigrationStates.Checking);
        (await orchestrator.Events(id)).OfType<MessageSetAside>().ShouldHaveSingleItem().MessageType.ShouldBe(nameof(CancelMigration));
    }
}
