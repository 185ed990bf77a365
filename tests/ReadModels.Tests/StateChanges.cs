using Orchestrator.Contracts;

namespace Orchestrator.ReadModels.Tests;

/// <summary>Streams written as the saga writes them: each transition ends with the state change it records.</summary>
static class StateChanges
{
    public static MigrationStateChanged Moved(Guid id, string? from, string to, DateTimeOffset at) => new(id, null, from, to, at);
}
