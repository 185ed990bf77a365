using Orchestrator.ReadModels.Audit.Ledger;

namespace Orchestrator.ReadModels.Tests;

/// <summary>The ledger's tree is RFC 9162's: the same roots as Certificate Transparency's test vectors, proofs that verify and that fail when wrong.</summary>
public sealed class When_the_ledger_is_hashed_as_a_merkle_tree
{
    /// <summary>The leaves of Certificate Transparency's reference tests (RFC 6962 and RFC 9162 share the tree hash).</summary>
    static readonly byte[][] Entries =
    [
        [], [0x00], [0x10], [0x20, 0x21], [0x30, 0x31], [0x40, 0x41, 0x42, 0x43],
        [0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
        [0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f],
    ];

    static List<byte[]> Leaves(int n) => [.. Enumerable.Range(0, n).Select(i => MerkleTree.LeafHash(i < Entries.Length ? Entries[i] : [(byte)i, (byte)(i >> 8)]))];

    [Theory]
    [InlineData(1, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")]
    [InlineData(8, "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")]
    public void Should_give_the_reference_roots(int n, string root) =>
        Convert.ToHexStringLower(MerkleTree.Root(Leaves(n))).ShouldBe(root);

    [Fact]
    public void Should_prove_every_leaf_of_every_size_included_and_refuse_a_wrong_one()
    {
        for (var n = 1; n <= 33; n++)
        {
            var leaves = Leaves(n);
            var root = MerkleTree.Root(leaves);
            for (var m = 0; m < n; m++)
            {
                var proof = MerkleTree.InclusionProof(leaves, m, n);
                MerkleTree.VerifyInclusion(leaves[m], m, n, proof, root).ShouldBeTrue($"leaf {m} of {n}");
                MerkleTree.VerifyInclusion(MerkleTree.LeafHash([0xff]), m, n, proof, root).ShouldBeFalse($"a forged leaf {m} of {n}");
                if (n > 1)
                    MerkleTree.VerifyInclusion(leaves[m], (m + 1) % n, n, proof, root).ShouldBeFalse($"leaf {m} of {n} at another index");
            }
        }
    }

    [Fact]
    public void Should_prove_every_smaller_tree_a_prefix_and_refuse_a_rewritten_one()
    {
        for (var n = 1; n <= 33; n++)
        {
            var leaves = Leaves(n);
            var root = MerkleTree.Root(leaves);
            for (var m = 1; m <= n; m++)
            {
                var older = MerkleTree.Root(leaves[..m]);
                var proof = MerkleTree.ConsistencyProof(leaves, m, n);
                MerkleTree.VerifyConsistency(m, n, older, root, proof).ShouldBeTrue($"{m} in {n}");
                var rewritten = leaves[..m];
                rewritten[m - 1] = MerkleTree.LeafHash([0xee]);
                if (m < n)
                    MerkleTree.VerifyConsistency(m, n, MerkleTree.Root(rewritten), root, proof).ShouldBeFalse($"a rewritten {m} in {n}");
            }
        }
    }

    [Fact]
    public void Should_give_the_same_root_appending_leaf_by_leaf_and_resuming_from_a_stored_frontier()
    {
        for (var n = 0; n <= 40; n++)
        {
            var leaves = Leaves(n);
            var range = new CompactRange();
            for (var i = 0; i < n; i++)
            {
                range.Append(leaves[i]);
                var resumed = CompactRange.From(range.Size, range.Frontier());
                resumed.Root().ShouldBe(MerkleTree.Root(leaves[..(i + 1)]), $"{i + 1} leaves");
            }
            range.Root().ShouldBe(MerkleTree.Root(leaves), $"{n} leaves");
        }
    }
}
