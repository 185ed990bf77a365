using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workflows.Policy;
using Orchestrator.Workflows.Prediction;

namespace Orchestrator.Workflows.Tests;

public sealed class When_a_migration_is_forecast
{
    const long MiB = 1024 * 1024;
    const long GiB = 1024 * MiB;

    /// <summary>The rounds a VM of the given behaviour gives over the link, each pass sending what the one before left dirty.</summary>
    static List<PreCopyRoundCompleted> Rounds(DirtyBehaviour behaviour, long memory, long bandwidth, int count, double noise = 0, int seed = 1)
    {
        var random = new Random(seed);
        var rounds = new List<PreCopyRoundCompleted>();
        double toSend = memory;
        for (var r = 1; r <= count; r++)
        {
            var seconds = toSend / bandwidth;
            var dirty = behaviour.Dirtied(seconds) * (1 + noise * (2 * random.NextDouble() - 1));
            rounds.Add(new(Guid.Empty, r, (long)toSend, (long)dirty, (long)(dirty / seconds), bandwidth, 0, DateTimeOffset.UnixEpoch));
            toSend = dirty;
        }
        return rounds;
    }

    [Fact]
    public void Should_learn_the_working_set_and_its_write_rate_from_earlier_rounds()
    {
        var truth = new DirtyBehaviour(512 * MiB, 200 * MiB, 1 * MiB, 0, 0);
        var history = new[] { 256 * MiB, 512 * MiB, 1024 * MiB }.Select(b => (IReadOnlyList<PreCopyRoundCompleted>)Rounds(truth, 4 * GiB, b, 6)).ToList();

        var learned = VmHistory.Learn(history, 4 * GiB)!;

        learned.WorkingSetBytes.ShouldBeInRange(480 * MiB, 545 * MiB);
        learned.HotRateBytesPerSecond.ShouldBeInRange(185.0 * MiB, 215.0 * MiB);
        foreach (var seconds in new[] { 0.05, 0.5, 2, 8 })
            learned.Dirtied(seconds).ShouldBe(truth.Dirtied(seconds), truth.Dirtied(seconds) * 0.03, $"a pass of {seconds} s");
        learned.Observations.ShouldBe(18);
    }

    [Fact]
    public void Should_weigh_the_latest_migrations_most_when_a_vm_changes()
    {
        var before = new DirtyBehaviour(256 * MiB, 50 * MiB, 0, 0, 0);
        var now = new DirtyBehaviour(1 * GiB, 300 * MiB, 0, 0, 0);
        var history = new List<IReadOnlyList<PreCopyRoundCompleted>>();
        for (var m = 0; m < 6; m++)
            history.Add(Rounds(before, 4 * GiB, 512 * MiB, 5));
        history.Add(Rounds(now, 4 * GiB, 512 * MiB, 5));
        history.Add(Rounds(now, 4 * GiB, 256 * MiB, 5));

        var learned = VmHistory.Learn(history, 4 * GiB)!;

        learned.HotRateBytesPerSecond.ShouldBeGreaterThan(150.0 * MiB, $"six older migrations of the quiet guest must not outweigh the two latest: {learned}");
    }

    [Fact]
    public void Should_forecast_a_quiet_vm_to_converge_in_about_the_time_its_memory_takes()
    {
        var quiet = new DirtyBehaviour(64 * MiB, 10 * MiB, 0, 0, 10);

        var forecast = MigrationForecaster.Forecast(quiet, 4 * GiB, 1 * GiB, EffectivePolicy.Defaults, MigrationStrategies.PreCopy);

        forecast.Outcome.ShouldBe(ForecastOutcomes.Converges);
        forecast.PreCopyConverges.ShouldBeTrue();
        forecast.TotalSeconds.ShouldBeInRange(4.0, 4.2);
        forecast.Rounds.ShouldBe(1);
        forecast.DowntimeMs.ShouldBeLessThanOrEqualTo(EffectivePolicy.Defaults.MaxDowntimeMs / 4.0, "the first step of the ramp is the limit it meets");
        forecast.BytesSent.ShouldBeGreaterThan(4 * GiB);
    }

    [Fact]
    public void Should_forecast_post_copy_when_the_guest_outruns_the_link_and_post_copy_is_allowed()
    {
        var hot = new DirtyBehaviour(2 * GiB, 2 * GiB, 0, 0, 10);
        var policy = EffectivePolicy.Defaults with { AllowPostCopy = true };

        var forecast = MigrationForecaster.Forecast(hot, 4 * GiB, 1 * GiB, policy, MigrationStrategies.Hybrid);

        forecast.Outcome.ShouldBe(ForecastOutcomes.PostCopy);
        forecast.PreCopyConverges.ShouldBeFalse();
        forecast.Reason.ShouldContain("switching to post-copy");
        forecast.DowntimeMs.ShouldBeLessThan(1, "post-copy pauses only for the device state");
    }

    [Fact]
    public void Should_forecast_an_abort_when_nothing_in_the_policy_can_make_it_converge()
    {
        var hot = new DirtyBehaviour(2 * GiB, 2 * GiB, 0, 0, 10);
        var policy = EffectivePolicy.Defaults with { AllowPostCopy = false, AllowAutoConverge = false };

        var forecast = MigrationForecaster.Forecast(hot, 4 * GiB, 1 * GiB, policy, MigrationStrategies.PreCopy);

        forecast.Outcome.ShouldBe(ForecastOutcomes.Aborts);
        forecast.Reason.ShouldContain("aborting");
        forecast.DowntimeMs.ShouldBeGreaterThan(policy.MaxDowntimeMs);
    }

    [Fact]
    public void Should_forecast_auto_converge_bringing_a_busy_guest_within_the_limit()
    {
        var busy = new DirtyBehaviour(1 * GiB, 1536 * MiB, 0, 0, 10);
        var throttled = EffectivePolicy.Defaults with { AllowPostCopy = false, AllowAutoConverge = true };
        var unthrottled = throttled with { AllowAutoConverge = false };

        var withThrottle = MigrationForecaster.Forecast(busy, 4 * GiB, 1 * GiB, throttled, MigrationStrategies.PreCopy);
        var without = MigrationForecaster.Forecast(busy, 4 * GiB, 1 * GiB, unthrottled, MigrationStrategies.PreCopy);

        without.Outcome.ShouldBe(ForecastOutcomes.Aborts);
        withThrottle.Outcome.ShouldBe(ForecastOutcomes.Converges);
        withThrottle.DowntimeMs.ShouldBeLessThanOrEqualTo(throttled.MaxDowntimeMs);
    }

    [Fact]
    public void Should_learn_nothing_without_a_round()
    {
        VmHistory.Learn([], 4 * GiB).ShouldBeNull();
        VmHistory.Learn([[]], 4 * GiB).ShouldBeNull();
    }

    [Fact]
    public void Should_send_only_what_the_first_pass_sent_before_when_the_guest_has_pages_it_never_wrote()
    {
        // A 64 MiB guest that uses 10 MiB of it: QEMU sends the other pages as zero pages, almost for free.
        var behaviour = new DirtyBehaviour(8 * MiB, 16 * MiB, 0, 0.05, 6);
        var policy = EffectivePolicy.Defaults with { MaxDowntimeMs = 600 };
        const double bandwidth = 64 * MiB;

        var allMemory = MigrationForecaster.Forecast(behaviour, 64 * MiB, bandwidth, policy, MigrationStrategies.PreCopy);
        var learned = MigrationForecaster.Forecast(behaviour, 64 * MiB, bandwidth, policy, MigrationStrategies.PreCopy, firstPassBytes: 10 * MiB);

        allMemory.TotalSeconds.ShouldBeGreaterThan(1.0);
        learned.TotalSeconds.ShouldBeLessThan(0.3);
        learned.BytesSent.ShouldBeLessThan(20 * MiB);
        // Never more than the memory, whatever was recorded.
        MigrationForecaster.Forecast(behaviour, 64 * MiB, bandwidth, policy, MigrationStrategies.PreCopy, firstPassBytes: 1 * GiB).TotalSeconds
            .ShouldBe(allMemory.TotalSeconds, 1e-9);
    }

    [Fact]
    public void Should_weigh_the_latest_first_passes_most_and_skip_migrations_that_did_not_report_one()
    {
        var fit = new DirtyBehaviour(8 * MiB, 16 * MiB, 0, 0, 1);
        var history = new VmBehaviourHistory { Id = "vm" };
        history.FirstPassBytes().ShouldBeNull();
        history.Add(new VmBehaviourSample(Guid.NewGuid(), DateTimeOffset.UnixEpoch, fit, 40 * MiB));
        history.Add(new VmBehaviourSample(Guid.NewGuid(), DateTimeOffset.UnixEpoch, fit));
        history.Add(new VmBehaviourSample(Guid.NewGuid(), DateTimeOffset.UnixEpoch, fit, 10 * MiB));

        // Weights 0.25 (40 MiB) and 1 (10 MiB), of the logarithms: 10 · 4^0.2 MiB.
        ((double)history.FirstPassBytes()!.Value).ShouldBe(10 * MiB * Math.Pow(4, 0.2), 2);
    }

    [Fact]
    public void Should_need_more_bandwidth_to_end_before_a_near_deadline()
    {
        var behaviour = new DirtyBehaviour(64 * MiB, 20 * MiB, 0, 0, 0);
        var policy = EffectivePolicy.From(null, null, HypervisorKinds.Qemu);
        var max = 1024.0 * MiB;
        var converging = Scheduling.LinkScheduler.NeededBandwidth(behaviour, 4 * GiB, policy, MigrationStrategies.PreCopy, max);
        // 4 GiB within 10 s needs at least 410 MiB/s, far more than converging does.
        var hurried = Scheduling.LinkScheduler.NeededBandwidth(behaviour, 4 * GiB, policy, MigrationStrategies.PreCopy, max, deadlineSeconds: 10);

        converging.ShouldBeLessThan(410 * MiB);
        hurried.ShouldBeGreaterThanOrEqualTo(410 * MiB);
        Scheduling.LinkScheduler.NeededBandwidth(behaviour, 4 * GiB, policy, MigrationStrategies.PreCopy, max, deadlineSeconds: 3600).ShouldBe(converging);
    }
}
