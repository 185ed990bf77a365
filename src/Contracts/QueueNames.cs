namespace Orchestrator.Contracts;

/// <summary>
/// Where messages go. The public command endpoints accept MassTransit envelopes and plain JSON bodies
/// (content type <c>application/json</c>, camelCase names) published to the exchange of the same name.
/// </summary>
public static class QueueNames
{
    public const string StartMigration = "orchestrator.start-migration";
    public const string CancelMigration = "orchestrator.cancel-migration";
    public const string ForceCompleteMigration = "orchestrator.force-complete-migration";
    public const string RecoverMigration = "orchestrator.recover-migration";
    public const string DrainHost = "orchestrator.drain-host";

    /// <summary>The migration saga's own endpoint: workers report here.</summary>
    public const string MigrationSaga = "orchestrator.migration-state";

    /// <summary>Where workers say which of their transfers are alive (<see cref="Workers.HostHeartbeat"/>).</summary>
    public const string Liveness = "orchestrator.liveness";

    /// <summary>The command queue of the worker that serves <paramref name="hypervisor"/> on <paramref name="host"/>.</summary>
    public static string Worker(string hypervisor, string host) => $"worker.{hypervisor}.{host}";
}
