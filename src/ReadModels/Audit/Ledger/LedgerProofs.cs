namespace Orchestrator.ReadModels.Audit.Ledger;

/// <summary>A proof from the ledger, as <c>audit prove</c> gives it: the hashes (hex) an auditor re-checks, and whether they check out.</summary>
public sealed record LedgerProof(string Kind, bool Verified, string Statement, long TreeSize, string RootHash, long? Leaf, string? LeafHash,
    long? FromTreeSize, string? FromRootHash, IReadOnlyList<string> Proof);

/// <summary>RFC 9162 inclusion and consistency proofs over the ledger's entries, verified against the checkpoints' roots.</summary>
public static class LedgerProofs
{
    public static LedgerProof Prove(IReadOnlyList<LedgerEntry> entries, Checkpoint checkpoint, long? sequence, Checkpoint? older)
    {
        var leaves = entries.Select(e => e.LeafHash()).ToList();
        var root = Convert.FromHexString(checkpoint.RootHash);
        if (checkpoint.TreeSize > leaves.Count)
            return new LedgerProof(sequence is null ? "consistency" : "inclusion", false,
                $"the checkpoint covers {checkpoint.TreeSize} events, the ledger holds {leaves.Count}: entries were deleted",
                checkpoint.TreeSize, checkpoint.RootHash, null, null, older?.TreeSize, older?.RootHash, []);
        var size = (int)checkpoint.TreeSize;
        if (sequence is { } seq)
        {
            var entry = entries.FirstOrDefault(e => e.Sequence == seq);
            if (entry is null || entry.Leaf >= size)
                return new LedgerProof("inclusion", false, $"no event of sequence {seq} is in the ledger under this checkpoint",
                    checkpoint.TreeSize, checkpoint.RootHash, entry?.Leaf, null, null, null, []);
            var path = MerkleTree.InclusionProof(leaves, (int)entry.Leaf, size);
            var verified = MerkleTree.VerifyInclusion(leaves[(int)entry.Leaf], entry.Leaf, size, path, root);
            return new LedgerProof("inclusion", verified,
                $"stream {entry.StreamId} event {entry.Version} (sequence {seq}) is leaf {entry.Leaf} of the checkpoint of {size} events",
                size, checkpoint.RootHash, entry.Leaf, Convert.ToHexStringLower(leaves[(int)entry.Leaf]), null, null, Hex(path));
        }
        var from = older!;
        if (from.TreeSize < 1 || from.TreeSize > size)
            return new LedgerProof("consistency", false, $"the older checkpoint covers {from.TreeSize} events, the newer {size}",
                size, checkpoint.RootHash, null, null, from.TreeSize, from.RootHash, []);
        var proof = MerkleTree.ConsistencyProof(leaves, (int)from.TreeSize, size);
        var consistent = MerkleTree.VerifyConsistency(from.TreeSize, size, Convert.FromHexString(from.RootHash), root, proof);
        return new LedgerProof("consistency", consistent, $"the checkpoint of {size} events extends the one of {from.TreeSize}",
            size, checkpoint.RootHash, null, null, from.TreeSize, from.RootHash, Hex(proof));
    }

    static List<string> Hex(List<byte[]> hashes) => [.. hashes.Select(Convert.ToHexStringLower)];
}
