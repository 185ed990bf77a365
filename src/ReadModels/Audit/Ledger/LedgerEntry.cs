using System.Globalization;
using System.Text;

namespace Orchestrator.ReadModels.Audit.Ledger;

/// <summary>
/// One leaf of the ledger: an event by its place in the store (sequence), its stream and version, and its chain hash.
/// The entry hashed into the tree is the RFC 8785 text of {"hash","sequence","streamId","version"} (docs/audit.md).
/// </summary>
public sealed record LedgerEntry(long Leaf, long Sequence, Guid StreamId, long Version, string Hash)
{
    public string EntryText()
    {
        var b = new StringBuilder(160);
        b.Append("{\"hash\":");
        Jcs.WriteString(Hash, b);
        b.Append(",\"sequence\":").Append(Sequence.ToString(CultureInfo.InvariantCulture));
        b.Append(",\"streamId\":");
        Jcs.WriteString(StreamId.ToString("D"), b);
        b.Append(",\"version\":").Append(Version.ToString(CultureInfo.InvariantCulture)).Append('}');
        return b.ToString();
    }

    public byte[] LeafHash() => MerkleTree.LeafHash(Encoding.UTF8.GetBytes(EntryText()));
}
