using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workflows.Intake;

namespace Orchestrator.Workflows.Tests;

/// <summary>
/// Back-pressure at the intake (<see cref="SagaBacklog"/>): while the saga's queue holds more than its limit, a new
/// migration waits at the door, and the reports of the migrations already moving are not queued behind it.
/// </summary>
public sealed class When_the_saga_is_behind
{
    /// <summary>The hold on the queue's depth; pacing the starts (<paramref name="inputsPerMigration"/>) is off unless asked for.</summary>
    static SagaBacklog Backlog(int limit = 10, TimeSpan? maxHold = null, double seconds = 3, int inputsPerMigration = 0) => new(Options.Create(new IntakeOptions
    {
        SagaBacklogFloor = limit, SagaBacklogSeconds = seconds, MaxHold = maxHold ?? TimeSpan.FromMinutes(5), InputsPerMigration = inputsPerMigration,
    }), NullLogger<SagaBacklog>.Instance);

    /// <summary>
    /// A depth read with nothing applied since the last reading, so no pace and the floor is the limit: the one-argument
    /// <see cref="SagaBacklog.Report(uint?)"/> reads the process-wide count of applied transitions, which the tests that
    /// run sagas meanwhile move (a pace from them raised the limit over the depth a test meant to hold at).
    /// </summary>
    static void Read(SagaBacklog backlog, uint? depth) => backlog.Report(depth, applied: 0, at: System.Diagnostics.Stopwatch.GetElapsedTime(0));

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Should_hold_a_new_migration_at_the_intake_until_the_sagas_queue_is_back_under_its_limit()
    {
        await using var orchestrator = await InMemoryOrchestrator.StartAsync();
        // No pace measured yet: the floor (100 messages) is the limit.
        orchestrator.Backlog.Report(501);
        var command = InMemoryOrchestrator.NewMigration("vm-held");

        await orchestrator.Start(command);
        await Eventually.Get(() => Task.FromResult(orchestrator.Backlog.Holding), holding => holding == 1, "the intake to hold the command");
        (await orchestrator.Summary(command.MigrationId)).ShouldBeNull("a held command has not reached the saga");
        (await orchestrator.Events(command.MigrationId)).ShouldBeEmpty();

        orchestrator.Backlog.Report(100);
        (await orchestrator.WaitForEnd(command.MigrationId))!.State.ShouldBe(MigrationStates.Completed);
        orchestrator.Backlog.Holding.ShouldBe(0);
    }

    [Fact]
    public async Task Should_let_a_command_through_at_once_when_the_queue_is_at_its_limit_unknown_or_the_hold_is_off()
    {
        var backlog = Backlog(limit: 10);
        (await backlog.WaitForRoom(Guid.NewGuid(), default)).ShouldBeFalse("nothing read yet: unknown holds nothing");
        Read(backlog, 10);
        (await backlog.WaitForRoom(Guid.NewGuid(), default)).ShouldBeFalse("at the limit is not over it");
        Read(backlog, null);
        (await backlog.WaitForRoom(Guid.NewGuid(), default)).ShouldBeFalse("the broker away: unknown holds nothing");

        var off = Backlog(limit: 10, seconds: 0);
        Read(off, 1_000_000);
        (await off.WaitForRoom(Guid.NewGuid(), default)).ShouldBeFalse("0 seconds turns the hold off");
    }

    [Fact]
    public async Task Should_hold_over_the_seconds_of_work_at_the_pace_the_saga_kept_while_messages_waited_and_fall_to_the_floor_when_it_stalls()
    {
        var backlog = Backlog(limit: 100, seconds: 3);
        backlog.Report(150, applied: 1_000, at: TimeSpan.FromSeconds(10));
        backlog.Pace.ShouldBeNull("one reading is no stretch");
        backlog.Limit.ShouldBe(100);
        // 200 applied in the second that began with 150 waiting: 200 a second, 3 s of work is 600 messages.
        backlog.Report(500, applied: 1_200, at: TimeSpan.FromSeconds(11));
        backlog.Pace.ShouldBe(200);
        backlog.Limit.ShouldBe(600);
        (await backlog.WaitForRoom(Guid.NewGuid(), default)).ShouldBeFalse("500 messages are 2.5 s of work");

        // The saga empties its queue, applying 50 in the second: it ran out of work, which says nothing of its pace; nor
        // does the next second, which began with nothing waiting.
        backlog.Report(0, applied: 1_250, at: TimeSpan.FromSeconds(12));
        backlog.Pace.ShouldBe(200);
        backlog.Report(700, applied: 1_255, at: TimeSpan.FromSeconds(13));
        backlog.Pace.ShouldBe(200);
        var held = backlog.WaitForRoom(Guid.NewGuid(), default);
        await Eventually.Get(() => Task.FromResult(backlog.Holding), holding => holding == 1, "700 messages, 3.5 s of work, hold the command");

        // The saga applies nothing while messages wait (the database away): its pace falls, and the limit with it, to the floor.
        for (var second = 14; second < 30; second++)
            backlog.Report(590, applied: 1_255, at: TimeSpan.FromSeconds(second));
        backlog.Limit.ShouldBe(100);
        held.IsCompleted.ShouldBeFalse("590 messages over a stalled saga's floor");
        backlog.Report(90, applied: 1_255, at: TimeSpan.FromSeconds(30));
        (await held).ShouldBeTrue();
    }

    [Fact]
    public async Task Should_release_every_held_command_once_the_depth_falls_and_hold_again_when_it_rises()
    {
        var backlog = Backlog(limit: 10);
        Read(backlog, 11);
        var held = Enumerable.Range(0, 3).Select(_ => backlog.WaitForRoom(Guid.NewGuid(), default)).ToArray();
        await Eventually.Get(() => Task.FromResult(backlog.Holding), holding => holding == 3, "three commands held");
        Read(backlog, 12);
        held.ShouldAllBe(wait => !wait.IsCompleted, "a deeper queue releases nobody");

        Read(backlog, 3);
        (await Task.WhenAll(held)).ShouldAllBe(wasHeld => wasHeld);
        backlog.Holding.ShouldBe(0);

        Read(backlog, 11);
        var again = backlog.WaitForRoom(Guid.NewGuid(), default);
        await Eventually.Get(() => Task.FromResult(backlog.Holding), holding => holding == 1, "a new command held again");
        Read(backlog, null);
        (await again).ShouldBeTrue("a depth no longer known releases it");
    }

    [Fact]
    public async Task Should_let_through_between_two_readings_only_as_many_migrations_as_the_room_under_the_limit_holds()
    {
        var backlog = Backlog(limit: 30);
        Read(backlog, 15);
        // 15 messages of room; each migration let through brings the saga 3 inputs before the next reading shows them.
        var waits = Enumerable.Range(0, 10).Select(_ => backlog.WaitForRoom(Guid.NewGuid(), default)).ToArray();
        var through = waits.Where(wait => wait.IsCompleted).ToArray();
        through.Length.ShouldBe(15 / SagaBacklog.InputsPerStart + 1, "15 + 6 × 3 would be over 30");
        through.ShouldAllBe(wait => !wait.Result, "those went on at once");
        await Eventually.Get(() => Task.FromResult(backlog.Holding), holding => holding == 4, "the other four held");

        Read(backlog, 15);
        (await Task.WhenAll(waits)).Count(wasHeld => wasHeld).ShouldBe(4, "a new reading gives the room again");
        backlog.Holding.ShouldBe(0);
    }

    /// <summary>
    /// <paramref name="seconds"/> readings a second apart, each with <paramref name="depth"/> messages waiting and
    /// <paramref name="pace"/> applied since the last; returns the time and the count applied at the last.
    /// </summary>
    static (TimeSpan At, long Applied) Behind(SagaBacklog backlog, int seconds, double pace, uint depth = 150, TimeSpan at = default, long applied = 1_000)
    {
        for (var second = 0; second < seconds; second++)
        {
            (at, applied) = (at + TimeSpan.FromSeconds(1), applied + (long)pace);
            backlog.Report(depth, applied, at);
        }
        return (at, applied);
    }

    [Fact]
    public async Task Should_let_new_migrations_through_no_faster_than_the_sagas_pace_over_the_inputs_a_migration_brings()
    {
        var backlog = Backlog(limit: 100, seconds: 2, inputsPerMigration: 8);
        var (at, applied) = Behind(backlog, SagaBacklog.SecondsBehindBeforePacing, pace: 160);
        backlog.Pace.ShouldBe(160);
        backlog.StartsPerSecond.ShouldBeNull("four seconds behind (five readings) may be a saga warming up: no pacing on them");
        // A fifth second behind at 160: 20 migrations a second, 2 s of them (40) at once.
        (at, applied) = Behind(backlog, 1, pace: 160, at: at, applied: applied);
        backlog.StartsPerSecond.ShouldBe(20);
        backlog.Limit.ShouldBe(320);
        // The queue empties, 40 applied in the second: it ran out of work, and its pace stands.
        backlog.Report(0, applied + 40, at += TimeSpan.FromSeconds(1));
        backlog.StartsPerSecond.ShouldBe(20);

        var waits = Enumerable.Range(0, 50).Select(_ => backlog.WaitForRoom(Guid.NewGuid(), default)).ToArray();
        waits.Count(wait => wait.IsCompleted).ShouldBe(40, "the queue is empty, but 2 s of starts at the pace is 40");
        await Eventually.Get(() => Task.FromResult(backlog.Holding), holding => holding == 10, "the other ten held");

        // A quarter of a second later: 5 more.
        backlog.Report(0, applied + 100, at += TimeSpan.FromSeconds(0.25));
        await Eventually.Get(() => Task.FromResult(backlog.Holding), holding => holding == 5, "five let through");
        backlog.Report(0, applied + 150, at += TimeSpan.FromSeconds(0.25));
        (await Task.WhenAll(waits)).Count(wasHeld => wasHeld).ShouldBe(10);

        // Idle for a minute: the bucket holds 2 s of starts, no more.
        backlog.Report(0, applied + 150, at + TimeSpan.FromMinutes(1));
        var burst = Enumerable.Range(0, 41).Select(_ => backlog.WaitForRoom(Guid.NewGuid(), default)).ToArray();
        burst.Count(wait => wait.IsCompleted).ShouldBe(40);
        backlog.Report(null);
        (await burst[^1]).ShouldBeTrue("a depth no longer known paces nothing");
    }

    [Fact]
    public async Task Should_pace_a_stalled_saga_at_the_floor_rather_than_stop_the_intake()
    {
        var backlog = Backlog(limit: 80, seconds: 2, inputsPerMigration: 8);
        // Nothing applied while messages waited (the database away): a pace of 0.
        var (at, applied) = Behind(backlog, SagaBacklog.SecondsBehindBeforePacing + 1, pace: 0, depth: 50);
        backlog.Pace.ShouldBe(0);
        backlog.StartsPerSecond.ShouldBe(10, "80 messages a second (the floor) over 8 inputs");
        backlog.Report(0, applied, at += TimeSpan.FromSeconds(1));

        var waits = Enumerable.Range(0, 25).Select(_ => backlog.WaitForRoom(Guid.NewGuid(), default)).ToArray();
        waits.Count(wait => wait.IsCompleted).ShouldBe(20);
        backlog.Report(0, applied, at + TimeSpan.FromSeconds(0.5));
        (await Task.WhenAll(waits)).Count(wasHeld => wasHeld).ShouldBe(5);

        var off = Backlog(limit: 80, seconds: 2, inputsPerMigration: 0);
        Behind(off, SagaBacklog.SecondsBehindBeforePacing + 1, pace: 0, depth: 50);
        off.Report(0, 1_000, TimeSpan.FromMinutes(1));
        off.StartsPerSecond.ShouldBeNull("0 inputs a migration turns the pacing off");
        Enumerable.Range(0, 25).Select(_ => off.WaitForRoom(Guid.NewGuid(), default)).Count(wait => wait.IsCompleted).ShouldBe(25);
    }

    [Fact]
    public async Task Should_let_a_command_go_after_the_longest_hold_and_give_up_a_hold_when_the_intake_stops()
    {
        var backlog = Backlog(limit: 10, maxHold: TimeSpan.FromMilliseconds(300));
        Read(backlog, 1000);
        var started = System.Diagnostics.Stopwatch.StartNew();
        (await backlog.WaitForRoom(Guid.NewGuid(), default)).ShouldBeTrue();
        started.Elapsed.ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(250), "it was held until the longest hold");
        backlog.Holding.ShouldBe(0);

        using var stopping = new CancellationTokenSource();
        var patient = Backlog(limit: 10);
        Read(patient, 1000);
        var waiting = patient.WaitForRoom(Guid.NewGuid(), stopping.Token);
        await Eventually.Get(() => Task.FromResult(patient.Holding), holding => holding == 1, "the command held");
        await stopping.CancelAsync();
        await Should.ThrowAsync<OperationCanceledException>(() => waiting);
        patient.Holding.ShouldBe(0);
    }
}
