namespace Orchestrator.Contracts;

/// <summary>
/// A signed checkpoint of the audit ledger was taken: the ledger (every event of every stream) held
/// <see cref="TreeSize"/> events whose RFC 9162 Merkle root is <see cref="RootHash"/>, signed with Ed25519 by the key
/// <see cref="KeyId"/> over the RFC 8785 text of {keyId, origin, rootHash, signedAt, treeSize} (docs/audit.md).
/// Services that keep these (an auditor's archive, a transparency log) can later prove the store still extends them.
/// Not about one migration, so it carries no MigrationId.
/// </summary>
/// <param name="Origin">Which store: <c>orchestrator/&lt;schema&gt;</c>.</param>
/// <param name="SignedAt">The signed time, as in the signed text (UTC, microseconds).</param>
/// <param name="Signature">The Ed25519 signature, base64.</param>
public sealed record AuditCheckpointTaken(
    string Origin,
    long TreeSize,
    string RootHash,
    DateTimeOffset SignedAt,
    string KeyId,
    string Signature,
    DateTimeOffset Timestamp,
    int SchemaVersion = 1);
