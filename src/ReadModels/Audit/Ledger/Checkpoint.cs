using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Orchestrator.ReadModels.Audit.Ledger;

/// <summary>
/// A signed tree head: the ledger's size and root at a moment, signed with Ed25519 over the RFC 8785 text of
/// {"keyId","origin","rootHash","signedAt","treeSize"}. The file form (<c>audit checkpoint</c>) is
/// {"checkpoint": {…those members…}, "signature": base64}.
/// </summary>
public sealed record Checkpoint(string Origin, long TreeSize, string RootHash, DateTimeOffset SignedAt, string KeyId, string Signature)
{
    public string Body()
    {
        var b = new StringBuilder(256);
        b.Append("{\"keyId\":");
        Jcs.WriteString(KeyId, b);
        b.Append(",\"origin\":");
        Jcs.WriteString(Origin, b);
        b.Append(",\"rootHash\":");
        Jcs.WriteString(RootHash, b);
        b.Append(",\"signedAt\":");
        Jcs.WriteString(HashChain.Timestamp(SignedAt), b);
        b.Append(",\"treeSize\":").Append(TreeSize.ToString(CultureInfo.InvariantCulture)).Append('}');
        return b.ToString();
    }

    public static Checkpoint Sign(SigningKey key, string origin, long treeSize, byte[] root, DateTimeOffset signedAt)
    {
        var unsigned = new Checkpoint(origin, treeSize, Convert.ToHexStringLower(root), HashChain.ToStoredPrecision(signedAt), key.KeyId, "");
        return unsigned with { Signature = Convert.ToBase64String(key.Sign(Encoding.UTF8.GetBytes(unsigned.Body()))) };
    }

    /// <summary>Whether the signature is this key's over this body.</summary>
    public bool IsSignedBy(Org.BouncyCastle.Crypto.Parameters.Ed25519PublicKeyParameters key)
    {
        try
        {
            return SigningKey.Verify(key, Encoding.UTF8.GetBytes(Body()), Convert.FromBase64String(Signature));
        }
        catch (FormatException)
        {
            return false;
        }
    }

    public string ToFileJson() => $"{{\"checkpoint\":{Body()},\"signature\":{JsonSerializer.Serialize(Signature)}}}";

    public static Checkpoint Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var c = document.RootElement.GetProperty("checkpoint");
        return new Checkpoint(c.GetProperty("origin").GetString()!, c.GetProperty("treeSize").GetInt64(), c.GetProperty("rootHash").GetString()!,
            DateTimeOffset.Parse(c.GetProperty("signedAt").GetString()!, CultureInfo.InvariantCulture), c.GetProperty("keyId").GetString()!,
            document.RootElement.GetProperty("signature").GetString()!);
    }
}
