using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.OpenSsl;

namespace Orchestrator.ReadModels.Audit.Ledger;

/// <summary>
/// The Ed25519 key that signs checkpoints: the private key from configuration (<c>Audit:SigningKey</c>, the 32-byte
/// seed in base64), the public key exported as PEM (SubjectPublicKeyInfo) for auditors.
/// </summary>
public sealed class SigningKey
{
    readonly Ed25519PrivateKeyParameters _private;

    SigningKey(Ed25519PrivateKeyParameters key)
    {
        _private = key;
        Public = key.GeneratePublicKey();
    }

    public Ed25519PublicKeyParameters Public { get; }

    /// <summary>The first 16 hex digits of the SHA-256 of the raw public key: which key signed, for a reader.</summary>
    public string KeyId => IdOf(Public);

    public static SigningKey FromBase64(string seed)
    {
        var bytes = Convert.FromBase64String(seed.Trim());
        if (bytes.Length != Ed25519PrivateKeyParameters.KeySize)
            throw new FormatException($"An Ed25519 signing key is {Ed25519PrivateKeyParameters.KeySize} bytes in base64; this one is {bytes.Length}.");
        return new SigningKey(new Ed25519PrivateKeyParameters(bytes, 0));
    }

    public static string GenerateBase64() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(Ed25519PrivateKeyParameters.KeySize));

    public byte[] Sign(byte[] message)
    {
        var signer = new Ed25519Signer();
        signer.Init(true, _private);
        signer.BlockUpdate(message, 0, message.Length);
        return signer.GenerateSignature();
    }

    public string PublicKeyPem() => ToPem(Public);

    public static string ToPem(Ed25519PublicKeyParameters key)
    {
        using var text = new StringWriter();
        var pem = new PemWriter(text);
        pem.WriteObject(key);
        pem.Writer.Flush();
        return text.ToString();
    }

    public static Ed25519PublicKeyParameters ReadPublicKeyPem(string pem)
    {
        using var reader = new StringReader(pem);
        return new PemReader(reader).ReadObject() as Ed25519PublicKeyParameters
            ?? throw new FormatException("Not an Ed25519 public key in PEM (BEGIN PUBLIC KEY).");
    }

    public static bool Verify(Ed25519PublicKeyParameters key, byte[] message, byte[] signature)
    {
        var verifier = new Ed25519Signer();
        verifier.Init(false, key);
        verifier.BlockUpdate(message, 0, message.Length);
        return verifier.VerifySignature(signature);
    }

    public static string IdOf(Ed25519PublicKeyParameters key) => Convert.ToHexStringLower(SHA256.HashData(key.GetEncoded()))[..16];
}
