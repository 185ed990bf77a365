using System.Security.Cryptography;

namespace Orchestrator.ReadModels.Audit.Ledger;

/// <summary>
/// The ledger's tree kept as its perfect subtrees, largest first (at most one per bit of the size): appending a leaf
/// merges equal neighbours, and folding them from the right gives RFC 9162's tree hash. A checkpoint stores this
/// frontier, so the next one hashes only the leaves appended since, not the whole ledger again.
/// </summary>
public sealed class CompactRange
{
    readonly List<(long Size, byte[] Hash)> _subtrees = [];

    public long Size { get; private set; }

    public void Append(byte[] leafHash)
    {
        _subtrees.Add((1, leafHash));
        Size++;
        while (_subtrees.Count > 1 && _subtrees[^1].Size == _subtrees[^2].Size)
        {
            var (size, right) = _subtrees[^1];
            var left = _subtrees[^2].Hash;
            _subtrees.RemoveRange(_subtrees.Count - 2, 2);
            _subtrees.Add((size * 2, MerkleTree.NodeHash(left, right)));
        }
    }

    public byte[] Root()
    {
        if (_subtrees.Count == 0)
            return SHA256.HashData([]);
        var root = _subtrees[^1].Hash;
        for (var i = _subtrees.Count - 2; i >= 0; i--)
            root = MerkleTree.NodeHash(_subtrees[i].Hash, root);
        return root;
    }

    /// <summary>The subtrees' hashes, hex, largest first: with the size, all that is needed to go on.</summary>
    public IReadOnlyList<string> Frontier() => [.. _subtrees.Select(s => Convert.ToHexStringLower(s.Hash))];

    /// <summary>The range of <paramref name="size"/> leaves whose frontier is <paramref name="frontier"/>.</summary>
    public static CompactRange From(long size, IReadOnlyList<string> frontier)
    {
        var range = new CompactRange { Size = size };
        var bits = Enumerable.Range(0, 63).Reverse().Select(b => 1L << b).Where(bit => (size & bit) != 0).ToList();
        if (bits.Count != frontier.Count)
            throw new FormatException($"A frontier of {size} leaves has {bits.Count} subtrees, not {frontier.Count}.");
        for (var i = 0; i < bits.Count; i++)
            range._subtrees.Add((bits[i], Convert.FromHexString(frontier[i])));
        return range;
    }
}
