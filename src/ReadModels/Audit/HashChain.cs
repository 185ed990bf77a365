using System.Security.Cryptography;
using System.Text;

namespace Orchestrator.ReadModels.Audit;

/// <summary>
/// The tamper-evidence of a stream: each event carries the SHA-256 of its previous event's hash, its stream, its
/// version, its type and its canonical stored content. Changing, inserting, deleting or reordering an event breaks the
/// chain from there on.
/// </summary>
public static class HashChain
{
    public const string HashHeader = "hash";
    public const string PreviousHashHeader = "previous-hash";

    /// <summary>What the first event of a stream chains to.</summary>
    public static readonly string Genesis = new('0', 64);

    public static string Compute(string previousHash, Guid streamId, long version, string eventType, string dataJson)
    {
        var content = $"{previousHash}\n{streamId:N}\n{version}\n{eventType}\n{CanonicalJson.Of(dataJson)}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content)));
    }
}
