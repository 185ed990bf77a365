namespace Orchestrator.Contracts;

/// <summary>Worker report: the destination on <see cref="Host"/> waits for the incoming migration.</summary>
public sealed record TargetPrepared(Guid MigrationId, string Host, int Epoch, DateTimeOffset Timestamp);
