using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workers.Sim;
using Orchestrator.Workflows.Prediction;

namespace Orchestrator.Workflows.Tests;

/// <summary>
/// The orchestrator forecasts each migration from the VM's earlier ones before any host is touched. A guest that is
/// calm when the worker checks it but rewrites 1 GiB at 900 MiB/s a few seconds into its migration passes the worker's
/// pre-flight every time; only its history says that pre-copy over 256 MiB/s cannot move it.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_a_vm_is_predicted_from_its_history
{
    const string Bursty = "vm-predicted-bursty";
    const string Quiet = "vm-predicted-quiet";

    static Task<InMemoryOrchestrator> Start() => InMemoryOrchestrator.StartAsync(sim =>
    {
        sim.RealTimeFactor = 0.005;
        sim.Vms[Bursty] = new SimVm(Bursty, 4L << 30, WorkingSetBytes: 1L << 30, DirtyRateBytesPerSecond: 10L << 20)
        {
            BurstAfterSeconds = 10,
            BurstDirtyRateBytesPerSecond = 900L << 20,
        };
        sim.Vms[Quiet] = new SimVm(Quiet, 2L << 30, WorkingSetBytes: 64L << 20, DirtyRateBytesPerSecond: 20L << 20);
    });

    static StartMigration Migration(string vm, string strategy, bool allowPostCopy, string source = "host-a", string target = "host-b") =>
        InMemoryOrchestrator.NewMigration(vm, source, target, new MigrationPolicy(MaxBandwidthMiBps: 256, AllowPostCopy: allowPostCopy,
            AllowAutoConverge: false)) with { Strategy = strategy };

    [Fact]
    public async Task Should_reject_a_vm_whose_history_says_pre_copy_cannot_move_it_before_any_host_is_touched()
    {
        await using var orchestrator = await Start();
        var first = Migration(Bursty, MigrationStrategies.PreCopy, allowPostCopy: false);
        await orchestrator.Start(first);
        (await orchestrator.WaitForEnd(first.MigrationId))!.State.ShouldBe(MigrationStates.RolledBack);
        var firstForecast = (await orchestrator.Events(first.MigrationId)).OfType<MigrationPredicted>().ShouldHaveSingleItem();
        firstForecast.EarlierMigrations.ShouldBe(0, "nothing to learn from yet: the upper bound");

        var second = Migration(Bursty, MigrationStrategies.PreCopy, allowPostCopy: false);
        await orchestrator.Start(second);
        var summary = await orchestrator.WaitForEnd(second.MigrationId);

        summary!.State.ShouldBe(MigrationStates.Rejected);
        summary.RejectionCode.ShouldBe(RejectionCodes.PredictedNotToConverge);
        summary.Reason.ShouldNotBeNull().ShouldContain("Predicted not to converge");
        summary.Reason.ShouldContain("learned from 1 earlier migration");
        summary.ForecastOutcome.ShouldBe(ForecastOutcomes.Aborts);
        var events = await orchestrator.Events(second.MigrationId);
        var forecast = events.OfType<MigrationPredicted>().ShouldHaveSingleItem();
        forecast.EarlierMigrations.ShouldBe(1);
        forecast.HotRateBytesPerSecond.ShouldBeGreaterThan(256L << 20, "it learned a guest that outruns the link");
        events.OfType<TargetPrepared>().ShouldBeEmpty();
        orchestrator.Fleet.WhereIs(Bursty).ShouldBe("host-a");
    }

    [Fact]
    public async Task Should_reject_a_migration_predicted_to_end_after_its_deadline_before_any_host_is_touched()
    {
        await using var orchestrator = await Start();
        // 2 GiB over 64 MiB/s: 32 s at the very least (all memory once), against a deadline 20 s away.
        var hurried = Migration(Quiet, MigrationStrategies.PreCopy, allowPostCopy: false) with
        {
            Deadline = DateTimeOffset.UtcNow.AddSeconds(20),
            Policy = new MigrationPolicy(MaxBandwidthMiBps: 64, AllowPostCopy: false, AllowAutoConverge: false),
        };
        await orchestrator.Start(hurried);
        var summary = await orchestrator.WaitForEnd(hurried.MigrationId);

        summary!.State.ShouldBe(MigrationStates.Rejected);
        summary.RejectionCode.ShouldBe(RejectionCodes.PredictedToMissDeadline);
        // Forecast past its deadline; on a machine slow enough, the deadline passed before the pre-flight (said so).
        summary.Reason.ShouldNotBeNull().ShouldMatch("after its deadline|passed while it waited");
        summary.Deadline.ShouldBe(hurried.Deadline);
        var events = await orchestrator.Events(hurried.MigrationId);
        events.OfType<MigrationRequested>().Single().Deadline.ShouldBe(hurried.Deadline);
        events.OfType<MigrationPredicted>().ShouldHaveSingleItem().TotalSeconds.ShouldBeGreaterThanOrEqualTo(32);
        events.OfType<TargetPrepared>().ShouldBeEmpty();
        orchestrator.Fleet.WhereIs(Quiet).ShouldBe("host-a");

        // With time enough, the same VM goes.
        var patient = Migration(Quiet, MigrationStrategies.PreCopy, allowPostCopy: false) with { Deadline = DateTimeOffset.UtcNow.AddHours(1) };
        await orchestrator.Start(patient);
        (await orchestrator.WaitForEnd(patient.MigrationId))!.State.ShouldBe(MigrationStates.Completed);
    }

    [Fact]
    public async Task Should_refresh_the_forecast_after_each_round_and_end_near_what_happened()
    {
        await using var orchestrator = await Start();
        var first = Migration(Quiet, MigrationStrategies.PreCopy, allowPostCopy: false);
        await orchestrator.Start(first);
        (await orchestrator.WaitForEnd(first.MigrationId))!.State.ShouldBe(MigrationStates.Completed);
        // Back again, with one migration to learn from.
        var second = Migration(Quiet, MigrationStrategies.PreCopy, allowPostCopy: false, source: "host-b", target: "host-a");
        await orchestrator.Start(second);
        var summary = await orchestrator.WaitForEnd(second.MigrationId);
        summary!.State.ShouldBe(MigrationStates.Completed, summary.Reason);

        var events = await orchestrator.Events(second.MigrationId);
        var rounds = events.OfType<PreCopyRoundCompleted>().ToList();
        var refreshed = events.OfType<MigrationForecastRefreshed>().ToList();
        rounds.Count.ShouldBeGreaterThan(1);
        // One after each round, in order, each from the rounds so far.
        refreshed.Select(r => r.AfterRound).ShouldBe(rounds.Select(r => r.Round));
        refreshed.ShouldAllBe(r => r.Outcome == ForecastOutcomes.Converges);
        // After the last round but one, it foresees the last: the rounds there were, and the time they took within 10 %.
        var actualSeconds = rounds.Sum(r => r.BytesTransferred / (double)r.BandwidthBytesPerSecond);
        var beforeLast = refreshed[^2];
        beforeLast.Rounds.ShouldBe(rounds.Count);
        (Math.Abs(beforeLast.TotalSeconds - actualSeconds) / actualSeconds).ShouldBeLessThan(0.10);
        summary.RefreshedAfterRound.ShouldBe(rounds[^1].Round);
        summary.ForecastTotalSeconds.ShouldBe(events.OfType<MigrationPredicted>().Single().TotalSeconds, "the first forecast stays as it was");
    }

    [Fact]
    public async Task Should_start_a_hybrid_migration_in_post_copy_when_its_history_says_pre_copy_will_not_converge()
    {
        await using var orchestrator = await Start();
        var first = Migration(Bursty, MigrationStrategies.Hybrid, allowPostCopy: true);
        await orchestrator.Start(first);
        (await orchestrator.WaitForEnd(first.MigrationId))!.State.ShouldBe(MigrationStates.Completed);
        var firstRounds = (await orchestrator.Events(first.MigrationId)).OfType<PreCopyRoundCompleted>().Count();

        var back = Migration(Bursty, MigrationStrategies.Hybrid, allowPostCopy: true, source: "host-b", target: "host-a");
        await orchestrator.Start(back);
        var summary = await orchestrator.WaitForEnd(back.MigrationId);

        summary!.State.ShouldBe(MigrationStates.Completed, summary.Reason);
        var events = await orchestrator.Events(back.MigrationId);
        events.OfType<MigrationPredicted>().ShouldHaveSingleItem().Outcome.ShouldBe(ForecastOutcomes.PostCopy);
        var switched = events.OfType<MigrationPolicyAdjusted>().First();
        switched.Action.ShouldBe("SwitchToPostCopy");
        switched.Reason.ShouldContain("starting in post-copy");
        var order = events.ToList();
        order.IndexOf(switched).ShouldBeLessThan(order.IndexOf(events.OfType<TargetPrepared>().Single()), "decided before any host was touched");
        events.OfType<PreCopyRoundCompleted>().Count().ShouldBeLessThan(firstRounds, "it did not wait for pre-copy to stall again");
        events.OfType<PostCopyStarted>().ShouldHaveSingleItem();
        orchestrator.Fleet.WhereIs(Bursty).ShouldBe("host-a");
    }

    [Fact]
    public async Task Should_record_the_forecast_of_a_quiet_vm_beside_its_outcome()
    {
        await using var orchestrator = await Start();
        var first = Migration(Quiet, MigrationStrategies.PreCopy, allowPostCopy: false);
        await orchestrator.Start(first);
        (await orchestrator.WaitForEnd(first.MigrationId))!.State.ShouldBe(MigrationStates.Completed);

        var back = Migration(Quiet, MigrationStrategies.PreCopy, allowPostCopy: false, source: "host-b", target: "host-a");
        await orchestrator.Start(back);
        var summary = await orchestrator.WaitForEnd(back.MigrationId);

        summary!.State.ShouldBe(MigrationStates.Completed, summary.Reason);
        summary.ForecastOutcome.ShouldBe(ForecastOutcomes.Converges);
        summary.ForecastFromMigrations.ShouldBe(1);
        summary.ForecastRounds.ShouldNotBeNull().ShouldBeInRange(summary.Rounds - 1, summary.Rounds + 1);
        summary.ForecastDowntimeMs.ShouldNotBeNull().ShouldBe(summary.DowntimeMs!.Value, summary.DowntimeMs.Value * 0.5);
        var forecast = (await orchestrator.Events(back.MigrationId)).OfType<MigrationPredicted>().ShouldHaveSingleItem();
        forecast.HotRateBytesPerSecond.ShouldBeGreaterThan(0);
        forecast.Reason.ShouldContain("learned from 1 earlier migration");
    }
}
