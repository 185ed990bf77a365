namespace Orchestrator.Workflows.Intake;

/// <summary>How the intake holds new migrations back while the saga is behind (configuration section <c>Intake</c>; see <see cref="SagaBacklog"/>).</summary>
public sealed class IntakeOptions
{
    public const string Section = "Intake";

    /// <summary>
    /// The most work, in seconds at the pace the saga has kept while messages waited for it, its queue may hold before
    /// the intake stops handing it new migrations. The migrations already starting go on adding to the queue after the
    /// hold begins, so it is set well under the 10 s the saga's queue must never exceed (at 3 s, 3,000 migrations started
    /// at 40 a second took the queue to 800 messages, 10.3 s at the pace the saga kept on this 2-core machine). 0 turns
    /// the hold off.
    /// </summary>
    public double SagaBacklogSeconds { get; set; } = 2;

    /// <summary>No hold while the saga's queue holds this many messages or fewer, whatever its pace (a pace not yet measured included).</summary>
    public int SagaBacklogFloor { get; set; } = 100;

    /// <summary>
    /// The saga inputs a migration brings in all, from its start to its end: 3 before its transfer, then its rounds,
    /// stop-and-copy, switchover and clean-up (7.3 a migration in <c>bench/run.sh scale</c>, rounded up). New migrations
    /// are let through at no more than the saga's pace over this many a second, so the ends they bring minutes later fit
    /// in the saga's pace too; the queue's depth alone cannot see them coming (see <see cref="SagaBacklog"/>). 0 turns
    /// this pacing off.
    /// </summary>
    public int InputsPerMigration { get; set; } = 8;

    /// <summary>How often the saga queue's depth is read from the broker.</summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The longest one command is held: after it, it goes to the saga whatever its queue holds, so no command waits for
    /// ever and none outlasts RabbitMQ's delivery acknowledgement timeout (30 minutes by default).
    /// </summary>
    public TimeSpan MaxHold { get; set; } = TimeSpan.FromMinutes(5);
}
