using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Orchestrator.Workflows.Intake;

/// <summary>
/// Back-pressure at the door. A new migration brings the saga several transitions before its transfer runs; the
/// migrations already moving bring it their reports, a switchover's among them, while a VM is paused. When new
/// migrations arrive faster than the saga applies transitions, the saga's queue grows and every report waits behind
/// the starts (12–20 minutes at 10,000 in flight, before this). So while the saga's queue holds more than
/// <see cref="IntakeOptions.SagaBacklogSeconds"/> of its work (its depth over the pace this process's saga kept while
/// messages waited for it, and never less than <see cref="IntakeOptions.SagaBacklogFloor"/> messages), the intake holds
/// each new <c>StartMigration</c> before it forwards it: unacknowledged, in the intake's own durable queue, where nothing
/// is lost if the process dies. Operator commands (cancel, recover, force-complete) are never held. A saga that applies
/// nothing while messages wait (the database away) brings the pace down, and the hold to the floor.
/// <para>
/// Between two readings, each migration let through counts <see cref="InputsPerStart"/> messages against the room the
/// last reading left under the limit: the saga inputs it brings before its transfer runs are not in the queue yet when
/// it passes. Without that, every command held (and every one arriving) went through at once when the depth fell under
/// the limit, and their inputs took the queue to several times its limit while 10,000 migrations started.
/// </para>
/// <para>
/// The depth cannot see the work a migration brings when it ends: its rounds, stop-and-copy, switchover and clean-up
/// come minutes after its start, about as many a second as starts went through then. Let through as fast as the queue
/// allowed (about 3 inputs each), 10,000 migrations ended as they had started, 30–46 a second, and their reports took
/// the queue to 6,606 messages (63 s of work). So the starts are also paced: at most the saga's pace over
/// <see cref="IntakeOptions.InputsPerMigration"/> a second (a token bucket, refilled at each reading, holding
/// <see cref="IntakeOptions.SagaBacklogSeconds"/> of it), and never fewer than
/// <see cref="IntakeOptions.SagaBacklogFloor"/> over that a second, so a pace measured low (the database away) does not
/// stop the intake. The pacing begins once the saga has been behind for <see cref="SecondsBehindBeforePacing"/> seconds
/// (its pace measured), and not before: a saga never behind needs none.
/// </para>
/// <para>
/// The depth comes from the broker (a probe in the executable, <see cref="Report"/> once a second), so several
/// instances hold back together. Unknown (no probe, the broker away, the queue not yet declared) means open: a hold
/// must never be why nothing starts. Meter <c>Orchestrator.Workflows</c>: <c>orchestrator.intake.held</c> (commands
/// held now), <c>orchestrator.saga.backlog</c> (the depth last read), <c>orchestrator.saga.pace</c> (the pace measured)
/// and <c>orchestrator.intake.pace</c> (the starts a second let through at most).
/// </para>
/// </summary>
public sealed class SagaBacklog(IOptions<IntakeOptions> options, ILogger<SagaBacklog> logger)
{
    static readonly Meter Meter = new(Persistence.TransitionMetrics.MeterName);
    static int _held;
    static long _lastDepth = -1;

    static readonly ObservableGauge<int> Held = Meter.CreateObservableGauge("orchestrator.intake.held", () => Volatile.Read(ref _held), "{command}",
        "New migrations the intake holds back while the saga's queue is over its limit");

    static readonly ObservableGauge<long> Depth = Meter.CreateObservableGauge("orchestrator.saga.backlog",
        () => Volatile.Read(ref _lastDepth) is var depth and >= 0 ? [new Measurement<long>(depth)] : Array.Empty<Measurement<long>>(), "{message}",
        "Messages waiting in the saga's queue, as last read from the broker");

    static double _lastStartsPerSecond = -1;
    static double _lastPace = -1;

    static readonly ObservableGauge<double> SagaPace = Meter.CreateObservableGauge("orchestrator.saga.pace",
        () => Volatile.Read(ref _lastPace) is var pace and >= 0 ? [new Measurement<double>(pace)] : Array.Empty<Measurement<double>>(), "{message}/s",
        "Messages a second the saga applied over the seconds it was behind all through (smoothed): what the hold's limit and the pacing rest on");

    static readonly ObservableGauge<double> Pacing = Meter.CreateObservableGauge("orchestrator.intake.pace",
        () => Volatile.Read(ref _lastStartsPerSecond) is var rate and >= 0 ? [new Measurement<double>(rate)] : Array.Empty<Measurement<double>>(), "{migration}/s",
        "New migrations a second the intake lets through at most, at the saga's pace (absent while it does not pace them)");

    /// <summary>
    /// The saga inputs a new migration brings before its transfer runs: its start, the pre-flight's answer, the
    /// target's (then its reports come from a transfer under way, which a hold must never delay).
    /// </summary>
    public const int InputsPerStart = 3;

    readonly object _gate = new();
    long _takenSinceReading;
    int _holding;
    uint? _depth;
    double? _pace;
    int _paceSamples;
    (long Applied, TimeSpan At, uint Depth)? _previous;
    double? _starts;
    TimeSpan? _refilledAt;
    TaskCompletionSource _changed = NewSignal();

    static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The saga queue's depth as just read, or null when it could not be read.</summary>
    public uint? Current
    {
        get
        {
            lock (_gate)
                return _depth;
        }
    }

    /// <summary>How many commands this process holds now.</summary>
    public int Holding => Volatile.Read(ref _holding);

    /// <summary>Messages a second this process's saga applied while its queue held some (smoothed), or null before any such stretch.</summary>
    public double? Pace
    {
        get
        {
            lock (_gate)
                return _pace;
        }
    }

    /// <summary>The depth over which a new migration is held, at the pace known now; 0 when the hold is off.</summary>
    public int Limit
    {
        get
        {
            lock (_gate)
                return LimitAt(_pace);
        }
    }

    /// <summary>New migrations a second the intake lets through at most, at the pace known now; null when it does not pace them.</summary>
    public double? StartsPerSecond
    {
        get
        {
            lock (_gate)
                return StartsAt();
        }
    }

    /// <summary>The seconds of a saga behind the pacing waits for: the first, as it warms up, are slower than it is.</summary>
    public const int SecondsBehindBeforePacing = 5;

    /// <summary>The starts a second at the pace known now, or null; call under the gate.</summary>
    double? StartsAt()
    {
        var settings = options.Value;
        return settings.SagaBacklogSeconds <= 0 || settings.InputsPerMigration <= 0 || _paceSamples < SecondsBehindBeforePacing
            || _pace is not { } known ? null
            : Math.Max(known, settings.SagaBacklogFloor) / settings.InputsPerMigration;
    }

    int LimitAt(double? pace)
    {
        var settings = options.Value;
        return settings.SagaBacklogSeconds <= 0 ? 0
            : (int)Math.Max(settings.SagaBacklogFloor, Math.Min(int.MaxValue, (pace ?? 0) * settings.SagaBacklogSeconds));
    }

    /// <summary>The saga queue's depth as just read (null: it could not be read), with this process's pace since the last reading.</summary>
    public void Report(uint? depth) => Report(depth, Persistence.TransitionMetrics.Applied, Stopwatch.GetElapsedTime(0));

    /// <summary>
    /// The depth read at <paramref name="at"/>, when this process had applied <paramref name="applied"/> saga messages in
    /// all. The stretch since the last reading counts toward the pace only when both readings saw messages waiting: the
    /// saga then worked as fast as it could all through it. A queue that emptied in between (a few starts let through,
    /// applied in a moment) says how much work came, not how fast the saga goes, and taken as its pace it paced the starts
    /// at the floor.
    /// </summary>
    public void Report(uint? depth, long applied, TimeSpan at)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            if (_previous is { Depth: > 0 } before && depth > 0 && at > before.At && applied >= before.Applied)
            {
                _paceSamples++;
                var sample = (applied - before.Applied) / (at - before.At).TotalSeconds;
                _pace = _pace is { } pace ? 0.7 * pace + 0.3 * sample : sample;
            }
            _previous = depth is { } read ? (applied, at, read) : null;
            Refill(at);
            _depth = depth;
            _takenSinceReading = 0;
            changed = _changed;
            _changed = NewSignal();
        }
        Volatile.Write(ref _lastDepth, depth is { } known ? known : -1);
        Volatile.Write(ref _lastStartsPerSecond, StartsPerSecond ?? -1);
        Volatile.Write(ref _lastPace, Pace ?? -1);
        changed.TrySetResult();
    }

    /// <summary>Adds the starts the pace allows since the last reading, up to <see cref="IntakeOptions.SagaBacklogSeconds"/> of them; call under the gate.</summary>
    void Refill(TimeSpan at)
    {
        if (StartsAt() is not { } rate)
        {
            (_starts, _refilledAt) = (null, null);
            return;
        }
        var most = Math.Max(1, rate * options.Value.SagaBacklogSeconds);
        _starts = _starts is { } left && _refilledAt is { } before && at >= before ? Math.Min(most, left + rate * (at - before).TotalSeconds) : most;
        _refilledAt = at;
    }

    /// <summary>
    /// True while a new migration must wait: the depth last read, with the inputs of the migrations let through since,
    /// is over the limit, or the starts the pace allows are used up until the next reading. False takes this
    /// migration's inputs from the room, and one start from the pace's.
    /// </summary>
    bool IsOver(out Task changed)
    {
        lock (_gate)
        {
            changed = _changed.Task;
            var limit = LimitAt(_pace);
            if (limit <= 0 || _depth is not { } depth)
                return false;
            if (depth + _takenSinceReading > limit)
                return true;
            if (_starts is { } starts)
            {
                if (starts < 1)
                    return true;
                _starts = starts - 1;
            }
            _takenSinceReading += InputsPerStart;
            return false;
        }
    }

    /// <summary>
    /// Returns once the saga's queue is at or under its limit and the pace allows another start, or after
    /// <see cref="IntakeOptions.MaxHold"/>; true when the command was held at all.
    /// </summary>
    public async Task<bool> WaitForRoom(Guid migrationId, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (!IsOver(out _))
            return false;
        Interlocked.Increment(ref _held);
        Interlocked.Increment(ref _holding);
        try
        {
            using var hold = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            hold.CancelAfter(settings.MaxHold);
            while (IsOver(out var changed))
            {
                try
                {
                    await changed.WaitAsync(hold.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    logger.LogWarning("Migration {MigrationId} was held {MaxHold} at the intake with the saga's queue at {Depth} messages (limit {Limit}): it goes on now",
                        migrationId, settings.MaxHold, Current, Limit);
                    break;
                }
            }
            return true;
        }
        finally
        {
            Interlocked.Decrement(ref _holding);
            Interlocked.Decrement(ref _held);
        }
    }
}
