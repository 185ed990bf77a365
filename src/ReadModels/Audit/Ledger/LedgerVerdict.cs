namespace Orchestrator.ReadModels.Audit.Ledger;

/// <summary>
/// The ledger checked against the store and the checkpoints: intact, or the first problem, with the event it concerns
/// when one can be named (a deleted or rewritten event still in the ledger).
/// </summary>
public sealed record LedgerVerdict(bool Intact, long Entries, int CheckpointsChecked, long? LatestTreeSize, string? Problem,
    Guid? StreamId = null, long? Version = null, long? Sequence = null);
