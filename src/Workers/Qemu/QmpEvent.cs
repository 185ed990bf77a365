using System.Text.Json;

namespace Orchestrator.Workers.Qemu;

/// <summary>An asynchronous QMP event (<c>MIGRATION</c>, <c>MIGRATION_PASS</c>, <c>STOP</c>…) with its data, when it has any.</summary>
public sealed record QmpEvent(string Name, JsonElement Data, DateTimeOffset Timestamp);
