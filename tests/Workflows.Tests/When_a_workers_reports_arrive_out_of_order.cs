using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Workflows.Tests;

/// <summary>
/// Invariant: one migration's events are recorded in the order its worker produced them. Reports carry their number
/// (<see cref="ISequencedReport"/>); one that arrives before its predecessor waits for it, and one whose predecessor never
/// comes is applied after a bounded wait. No worker runs here: the test plays the worker.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_a_workers_reports_arrive_out_of_order
{
    static PreCopyRoundCompleted Round(Guid id, int round, int? sequence) =>
        new(id, round, 2L << 30, (1L << 30) >> round, 1 << 20, 1L << 30, 5000, DateTimeOffset.UtcNow, Sequence: sequence);

    [Fact]
    public async Task Should_record_the_rounds_in_the_order_the_worker_made_them()
    {
        await using var orchestrator = await InMemoryOrchestrator.StartAsync();
        var id = await orchestrator.PlayToTransfer("vm-order", "order-src", "order-dst");

        // Pass 3 and pass 2 overtake pass 1 (another instance, a redelivery).
        await orchestrator.Send(QueueNames.MigrationSaga, Round(id, 3, 3), id);
        await orchestrator.Send(QueueNames.MigrationSaga, Round(id, 2, 2), id);
        await orchestrator.Send(QueueNames.MigrationSaga, Round(id, 1, 1), id);

        var rounds = await Eventually.Get(async () => (await orchestrator.Events(id)).OfType<PreCopyRoundCompleted>().ToList(),
            recorded => recorded.Count == 3, "the three rounds to be recorded");
        rounds.Select(r => r.Round).ShouldBe([1, 2, 3]);
        (await orchestrator.Summary(id))!.Rounds.ShouldBe(3);
    }

    [Fact]
    public async Task Should_apply_a_report_whose_predecessor_never_comes_after_a_bounded_wait()
    {
        await using var orchestrator = await InMemoryOrchestrator.StartAsync();
        var id = await orchestrator.PlayToTransfer("vm-gap", "order-src", "order-dst");

        await orchestrator.Send(QueueNames.MigrationSaga, Round(id, 1, 1), id);
        // Report 2 was lost with its worker.
        await orchestrator.Send(QueueNames.MigrationSaga, Round(id, 3, 3), id);

        var rounds = await Eventually.Get(async () => (await orchestrator.Events(id)).OfType<PreCopyRoundCompleted>().ToList(),
            recorded => recorded.Count == 2, "both rounds to be recorded");
        rounds.Select(r => r.Round).ShouldBe([1, 3]);
        (await orchestrator.Summary(id))!.State.ShouldBe(MigrationStates.PreCopying);
    }
}
