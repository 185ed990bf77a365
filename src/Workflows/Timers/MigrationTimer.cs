namespace Orchestrator.Workflows.Timers;

/// <summary>
/// A durable timeout of one migration, stored in the transaction of the transition that armed it, so a crash can
/// never lose it. One per migration and kind: arming again replaces it, and the token tells a stale one apart.
/// </summary>
public sealed class MigrationTimer
{
    public string Id { get; set; } = string.Empty;
    public Guid MigrationId { get; set; }
    public string Kind { get; set; } = string.Empty;
    public Guid Token { get; set; }
    public DateTimeOffset DueAt { get; set; }

    /// <summary>When it was armed; a heartbeat after this moves a progress timeout on (see <see cref="TimerDispatcher"/>).</summary>
    public DateTimeOffset ArmedAt { get; set; }

    /// <summary>The state the migration waited in when the timer was armed (for the reason it gives when it fires).</summary>
    public string State { get; set; } = string.Empty;

    public static string IdFor(Guid migrationId, string kind) => $"{migrationId:N}:{kind}";
}
