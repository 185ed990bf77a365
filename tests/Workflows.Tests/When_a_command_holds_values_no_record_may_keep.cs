using Orchestrator.Contracts;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workflows.Intake;
using Orchestrator.Workflows.Migration;

namespace Orchestrator.Workflows.Tests;

/// <summary>
/// Issue 14's reproductions at the saga itself (sent straight to its queue, past the intake's size limit): a value the
/// rules refuse is rejected, never a failed transaction, and the stored rejection keeps it clipped, so no index key,
/// JSON document or header receives a NUL or an unbounded string. Nothing goes to any worker.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_a_command_holds_values_no_record_may_keep
{
    [Fact]
    public async Task Should_reject_each_with_its_reason_and_keep_only_a_clipped_copy()
    {
        await using var orchestrator = await InMemoryOrchestrator.StartAsync();
        var nulVm = InMemoryOrchestrator.NewMigration("vm-\0x");
        var longVm = InMemoryOrchestrator.NewMigration(new string('v', 3000));
        var hugeRequestedBy = InMemoryOrchestrator.NewMigration("vm-huge-by") with { RequestedBy = new string('r', 200_000) };
        var nulRequestedBy = InMemoryOrchestrator.NewMigration("vm-nul-by") with { RequestedBy = "ops\0" };
        var fragment = InMemoryOrchestrator.NewMigration("vm-fragment", target: "host-b#evil");
        var trailingSpace = InMemoryOrchestrator.NewMigration("vm-space", target: "host-a ");
        var good = InMemoryOrchestrator.NewMigration("vm-good-after");

        foreach (var command in new[] { nulVm, longVm, hugeRequestedBy, nulRequestedBy, fragment, trailingSpace, good })
            await orchestrator.Send(QueueNames.MigrationSaga, command, command.MigrationId);

        var nul = await Rejected(orchestrator, nulVm.MigrationId, "VmId 'vm-\\u0000x' is not a valid name");
        nul.VmId.ShouldBe("vm-\uFFFDx");
        (await Rejected(orchestrator, longVm.MigrationId, "(3000 characters) is not a valid name")).VmId!.Length.ShouldBe(InputRules.ShownLength);
        await Rejected(orchestrator, hugeRequestedBy.MigrationId, "RequestedBy is 200000 characters long");
        (await Saga(orchestrator, hugeRequestedBy.MigrationId)).RequestedBy!.Length.ShouldBe(InputRules.ShownLength);
        await Rejected(orchestrator, nulRequestedBy.MigrationId, "RequestedBy holds a control character (U+0000)");
        (await Saga(orchestrator, nulRequestedBy.MigrationId)).RequestedBy.ShouldBe("ops\uFFFD");
        await Rejected(orchestrator, fragment.MigrationId, "TargetHost 'host-b#evil' is not a valid name");
        await Rejected(orchestrator, trailingSpace.MigrationId, "TargetHost 'host-a ' is not a valid name");
        (await orchestrator.WaitForEnd(good.MigrationId))!.State.ShouldBe(MigrationStates.Completed);

        // Rejected before the pre-flight check: no worker was asked anything, no host was touched.
        orchestrator.Fleet.IsTargetPrepared(fragment.MigrationId, "host-b").ShouldBeFalse();
        (await orchestrator.Events(fragment.MigrationId)).Select(e => e.GetType()).ShouldBe([typeof(MigrationRejected), typeof(MigrationStateChanged)]);
    }

    static async Task<MigrationState> Saga(InMemoryOrchestrator orchestrator, Guid migrationId)
    {
        await using var session = orchestrator.Store.QuerySession();
        return (await session.LoadAsync<MigrationState>(migrationId)).ShouldNotBeNull();
    }

    static async Task<MigrationSummary> Rejected(InMemoryOrchestrator orchestrator, Guid migrationId, string reason)
    {
        var summary = (await orchestrator.WaitForEnd(migrationId))!;
        summary.State.ShouldBe(MigrationStates.Rejected);
        summary.RejectionCode.ShouldBe(RejectionCodes.InvalidCommand);
        summary.Reason.ShouldNotBeNull().ShouldContain(reason);
        return summary;
    }
}
