using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Workflows.Tests;

/// <summary>
/// The stop-and-copy report can be overtaken by the switchover and even by the source's cleanup (two orchestrator
/// instances: one retries the stop-and-copy after a concurrency conflict while the other moves on). It is history all
/// the same: recorded, and the migration's downtime comes from it. No worker runs here: the test plays the workers.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_the_stop_and_copy_report_comes_last
{
    static readonly TimeSpan Cleanup = TimeSpan.FromSeconds(3);

    static Task<InMemoryOrchestrator> Start() => InMemoryOrchestrator.StartAsync(timeouts: timeouts => timeouts.Cleanup = Cleanup);

    static async Task<Guid> SwitchOverAndCleanUp(InMemoryOrchestrator orchestrator, string vm)
    {
        var id = await orchestrator.PlayToTransfer(vm, "late-src", "late-dst");
        var now = DateTimeOffset.UtcNow;
        await orchestrator.Send(QueueNames.MigrationSaga, new PreCopyRoundCompleted(id, 1, 2L << 30, 1 << 20, 1 << 20, 1L << 30, 1, now), id);
        await orchestrator.Send(QueueNames.MigrationSaga, new SwitchoverCompleted(id, "late-dst", 2L << 30, now), id);
        await orchestrator.WaitFor(id, s => s.State == MigrationStates.CleaningUp, "the cleanup");
        await orchestrator.Send(QueueNames.MigrationSaga, new SourceCleanedUp(id, "late-src", now), id);
        await Eventually.Get(() => orchestrator.Events(id), events => events.OfType<SourceCleanedUp>().Any(), "the cleanup to be recorded");
        return id;
    }

    [Fact]
    public async Task Should_complete_with_the_downtime_it_reports()
    {
        await using var orchestrator = await Start();
        var id = await SwitchOverAndCleanUp(orchestrator, "vm-late-stop");

        (await orchestrator.Summary(id))!.State.ShouldBe(MigrationStates.CleaningUp);
        await orchestrator.Send(QueueNames.MigrationSaga, new StopAndCopyCompleted(id, 42.5, 1 << 20, DateTimeOffset.UtcNow), id);
        var summary = await orchestrator.WaitForEnd(id);

        summary!.State.ShouldBe(MigrationStates.Completed);
        summary.DowntimeMs.ShouldBe(42.5);
        var events = await orchestrator.Events(id);
        events.OfType<StopAndCopyCompleted>().ShouldHaveSingleItem();
        events.OfType<MigrationCompleted>().ShouldHaveSingleItem().DowntimeMs.ShouldBe(42.5);
    }

    [Fact]
    public async Task Should_complete_at_the_cleanup_timeout_and_record_a_report_later_still()
    {
        await using var orchestrator = await Start();
        var id = await SwitchOverAndCleanUp(orchestrator, "vm-later-stop");

        var ended = await orchestrator.WaitForEnd(id);
        ended!.State.ShouldBe(MigrationStates.Completed);
        await orchestrator.Send(QueueNames.MigrationSaga, new StopAndCopyCompleted(id, 17.25, 1 << 20, DateTimeOffset.UtcNow), id);

        var summary = await orchestrator.WaitFor(id, s => s.DowntimeMs is > 0, "the late downtime");
        summary!.DowntimeMs.ShouldBe(17.25);
        summary.State.ShouldBe(MigrationStates.Completed);
        (await orchestrator.Events(id)).OfType<StopAndCopyCompleted>().ShouldHaveSingleItem();
    }
}
