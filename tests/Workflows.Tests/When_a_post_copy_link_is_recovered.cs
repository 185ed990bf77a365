using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Workflows.Tests;

/// <summary>A worker that resumed a broken post-copy link reports it; the saga records it and the post-copy goes on.</summary>
[Trait("Category", "Integration")]
public sealed class When_a_post_copy_link_is_recovered
{
    [Fact]
    public async Task Should_record_the_recovery_on_the_stream_and_carry_on_to_completion()
    {
        await using var orchestrator = await InMemoryOrchestrator.StartAsync();
        // Hosts no worker serves: only the test answers.
        var command = InMemoryOrchestrator.NewMigration("vm-pc-recovered", source: "rec-src", target: "rec-dst",
            policy: new MigrationPolicy(AllowPostCopy: true)) with { Strategy = MigrationStrategies.PostCopy };
        var id = command.MigrationId;
        await orchestrator.Start(command);
        await orchestrator.WaitFor(id, s => s.State == MigrationStates.Checking, "the pre-flight check");
        await Report(orchestrator, id, new PreflightPassed(id, 64L << 20, 100, DateTimeOffset.UtcNow), MigrationStates.Preparing);
        await Report(orchestrator, id, new TargetPrepared(id, "rec-dst", 1, DateTimeOffset.UtcNow), MigrationStates.PreCopying);
        await Report(orchestrator, id, new PostCopyStarted(id, "rec-dst", 8L << 20, DateTimeOffset.UtcNow), MigrationStates.PostCopying);

        await orchestrator.Send(QueueNames.MigrationSaga,
            new PostCopyRecovered(id, "rec-dst", 2, 140.5, "migrate-recover on rec-dst, migrate resume on rec-src", DateTimeOffset.UtcNow), id);
        var recorded = await Eventually.Get(() => orchestrator.Events(id), e => e.OfType<PostCopyRecovered>().Any(), "the recovery on the stream");
        (await orchestrator.Summary(id))!.State.ShouldBe(MigrationStates.PostCopying);
        recorded.OfType<PostCopyRecovered>().Single().ShouldSatisfyAllConditions(
            r => r.Attempts.ShouldBe(2), r => r.PausedMs.ShouldBe(140.5), r => r.Detail.ShouldContain("migrate-recover"));

        await Report(orchestrator, id, new PostCopyCompleted(id, "rec-dst", 64L << 20, 12, DateTimeOffset.UtcNow), MigrationStates.CleaningUp);
        await Report(orchestrator, id, new SourceCleanedUp(id, "rec-src", DateTimeOffset.UtcNow), MigrationStates.Completed);
        var summary = (await orchestrator.Summary(id))!;
        summary.RunningOn.ShouldBe("rec-dst");
        var kinds = (await orchestrator.Events(id)).Select(e => e.GetType()).ToList();
        kinds.IndexOf(typeof(PostCopyStarted)).ShouldBeLessThan(kinds.IndexOf(typeof(PostCopyRecovered)));
        kinds.IndexOf(typeof(PostCopyRecovered)).ShouldBeLessThan(kinds.IndexOf(typeof(PostCopyCompleted)));
    }

    static async Task Report(InMemoryOrchestrator orchestrator, Guid id, object report, string state)
    {
        await orchestrator.Send(QueueNames.MigrationSaga, report, id);
        await orchestrator.WaitFor(id, s => s.State == state, $"{state} after {report.GetType().Name}");
    }
}
