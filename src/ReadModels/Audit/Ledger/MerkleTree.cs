using System.Security.Cryptography;

namespace Orchestrator.ReadModels.Audit.Ledger;

/// <summary>
/// RFC 9162 (Certificate Transparency 2.0), section 2.1: the Merkle tree hash of a list of entries, inclusion and
/// consistency proofs, and their verification. Leaf hash SHA-256(0x00 ‖ entry), node hash SHA-256(0x01 ‖ left ‖ right);
/// a list of n &gt; 1 splits at the largest power of two below n. Works on leaf hashes, so a tree of n leaves needs them
/// all once and nothing more.
/// </summary>
public static class MerkleTree
{
    public static byte[] LeafHash(ReadOnlySpan<byte> entry)
    {
        var buffer = new byte[entry.Length + 1];
        entry.CopyTo(buffer.AsSpan(1));
        return SHA256.HashData(buffer);
    }

    public static byte[] NodeHash(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        Span<byte> buffer = stackalloc byte[65];
        buffer[0] = 1;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[33..]);
        return SHA256.HashData(buffer);
    }

    /// <summary>MTH(D[0:n]) over leaf hashes; the empty tree hashes to SHA-256 of nothing.</summary>
    public static byte[] Root(IReadOnlyList<byte[]> leaves) => leaves.Count == 0 ? SHA256.HashData([]) : Root(leaves, 0, leaves.Count);

    static byte[] Root(IReadOnlyList<byte[]> leaves, int start, int count)
    {
        if (count == 1)
            return leaves[start];
        var k = Split(count);
        return NodeHash(Root(leaves, start, k), Root(leaves, start + k, count - k));
    }

    /// <summary>The largest power of two smaller than n (n ≥ 2).</summary>
    static int Split(int n)
    {
        var k = 1;
        while (k << 1 < n)
            k <<= 1;
        return k;
    }

    /// <summary>PATH(m, D[0:n]): the inclusion proof of leaf m in the tree of the first n leaves.</summary>
    public static List<byte[]> InclusionProof(IReadOnlyList<byte[]> leaves, int m, int n)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(n, leaves.Count);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(m, n);
        var proof = new List<byte[]>();
        Path(leaves, m, 0, n, proof);
        return proof;
    }

    static void Path(IReadOnlyList<byte[]> leaves, int m, int start, int count, List<byte[]> proof)
    {
        if (count <= 1)
            return;
        var k = Split(count);
        if (m < k)
        {
            Path(leaves, m, start, k, proof);
            proof.Add(Root(leaves, start + k, count - k));
        }
        else
        {
            Path(leaves, m - k, start + k, count - k, proof);
            proof.Add(Root(leaves, start, k));
        }
    }

    /// <summary>PROOF(m, D[0:n]): the consistency proof that the tree of the first m leaves is a prefix of the tree of n.</summary>
    public static List<byte[]> ConsistencyProof(IReadOnlyList<byte[]> leaves, int m, int n)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(n, leaves.Count);
        ArgumentOutOfRangeException.ThrowIfLessThan(m, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(m, n);
        var proof = new List<byte[]>();
        SubProof(leaves, m, 0, n, true, proof);
        return proof;
    }

    static void SubProof(IReadOnlyList<byte[]> leaves, int m, int start, int count, bool whole, List<byte[]> proof)
    {
        if (m == count)
        {
            if (!whole)
                proof.Add(Root(leaves, start, count));
            return;
        }
        var k = Split(count);
        if (m <= k)
        {
            SubProof(leaves, m, start, k, whole, proof);
            proof.Add(Root(leaves, start + k, count - k));
        }
        else
        {
            SubProof(leaves, m - k, start + k, count - k, false, proof);
            proof.Add(Root(leaves, start, k));
        }
    }

    /// <summary>RFC 9162 2.1.3.2: whether <paramref name="proof"/> shows leaf <paramref name="index"/> in the tree of <paramref name="size"/> with <paramref name="root"/>.</summary>
    public static bool VerifyInclusion(byte[] leafHash, long index, long size, IReadOnlyList<byte[]> proof, byte[] root)
    {
        if (index >= size)
            return false;
        long fn = index, sn = size - 1;
        var r = leafHash;
        foreach (var p in proof)
        {
            if (sn == 0)
                return false;
            if ((fn & 1) == 1 || fn == sn)
            {
                r = NodeHash(p, r);
                if ((fn & 1) == 0)
                    while ((fn & 1) == 0 && fn != 0)
                    {
                        fn >>= 1;
                        sn >>= 1;
                    }
            }
            else
                r = NodeHash(r, p);
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 && r.AsSpan().SequenceEqual(root);
    }

    /// <summary>RFC 9162 2.1.4.2: whether <paramref name="proof"/> shows the tree of <paramref name="first"/> leaves a prefix of the one of <paramref name="second"/>.</summary>
    public static bool VerifyConsistency(long first, long second, byte[] firstRoot, byte[] secondRoot, IReadOnlyList<byte[]> proof)
    {
        if (first == second)
            return proof.Count == 0 && firstRoot.AsSpan().SequenceEqual(secondRoot);
        if (first < 1 || first > second || proof.Count == 0)
            return false;
        var path = new List<byte[]>(proof);
        if ((first & (first - 1)) == 0)
            path.Insert(0, firstRoot);
        long fn = first - 1, sn = second - 1;
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }
        byte[] fr = path[0], sr = path[0];
        foreach (var c in path.Skip(1))
        {
            if (sn == 0)
                return false;
            if ((fn & 1) == 1 || fn == sn)
            {
                fr = NodeHash(c, fr);
                sr = NodeHash(c, sr);
                if ((fn & 1) == 0)
                    while ((fn & 1) == 0 && fn != 0)
                    {
                        fn >>= 1;
                        sn >>= 1;
                    }
            }
            else
                sr = NodeHash(sr, c);
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 && fr.AsSpan().SequenceEqual(firstRoot) && sr.AsSpan().SequenceEqual(secondRoot);
    }
}
