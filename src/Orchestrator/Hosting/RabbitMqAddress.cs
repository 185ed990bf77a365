using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using MassTransit;
using RabbitMQ.Client;

namespace Orchestrator.Hosting;

/// <summary>
/// Reads an <c>amqp://user:password@host:port/vhost</c> address into MassTransit's host settings, and into
/// RabbitMQ.Client's for the processes that use it directly. <c>amqps://</c> (port 5671 unless given) speaks TLS and
/// verifies the broker: its certificate must name the address's host and chain to a trusted CA, the system's, or only
/// the one in <c>?cacertfile=PATH</c> (RabbitMQ's own URI query parameter) when the address gives one.
/// </summary>
public static class RabbitMqAddress
{
    public const string CaCertificateParameter = "cacertfile";

    public static void Configure(IRabbitMqBusFactoryConfigurator cfg, string address)
    {
        var uri = new Uri(address);
        var userInfo = uri.UserInfo.Split(':', 2);
        var vhost = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        var tls = IsTls(uri);
        cfg.Host(uri.Host, (ushort)(uri.IsDefaultPort || uri.Port <= 0 ? tls ? 5671 : 5672 : uri.Port), vhost.Length == 0 ? "/" : vhost, host =>
        {
            if (userInfo[0].Length > 0)
                host.Username(Uri.UnescapeDataString(userInfo[0]));
            if (userInfo.Length > 1)
                host.Password(Uri.UnescapeDataString(userInfo[1]));
            if (tls)
            {
                var validate = Validator(uri);
                host.UseSsl(ssl =>
                {
                    ssl.ServerName = uri.Host;
                    ssl.Protocol = SslProtocols.Tls12 | SslProtocols.Tls13;
                    ssl.CertificateValidationCallback = validate;
                });
            }
        });
    }

    /// <summary>A RabbitMQ.Client factory for <paramref name="address"/>, with the same verification of the broker.</summary>
    public static ConnectionFactory Factory(string address, string clientName)
    {
        var uri = new Uri(address);
        var factory = new ConnectionFactory { Uri = WithoutQuery(uri), ClientProvidedName = clientName };
        if (IsTls(uri))
        {
            factory.Ssl.Enabled = true;
            factory.Ssl.ServerName = uri.Host;
            factory.Ssl.Version = SslProtocols.Tls12 | SslProtocols.Tls13;
            factory.Ssl.CertificateValidationCallback = Validator(uri);
        }
        return factory;
    }

    static bool IsTls(Uri uri) => uri.Scheme.Equals("amqps", StringComparison.OrdinalIgnoreCase);

    static Uri WithoutQuery(Uri uri) => new UriBuilder(uri) { Query = string.Empty }.Uri;

    static string? CaCertificatePath(Uri uri) => uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
        .Select(pair => pair.Split('=', 2))
        .Where(pair => pair[0] == CaCertificateParameter && pair.Length == 2)
        .Select(pair => Uri.UnescapeDataString(pair[1])).LastOrDefault();

    /// <summary>
    /// The broker's certificate must name the host (no mismatch, no missing certificate), and chain to the CA of
    /// <c>cacertfile</c> alone when given, else to the system's trust store. Read once, at start: a CA file that cannot be
    /// read stops the process with its path.
    /// </summary>
    static RemoteCertificateValidationCallback Validator(Uri uri)
    {
        if (CaCertificatePath(uri) is not { } path)
            return (_, _, _, errors) => errors == SslPolicyErrors.None;
        X509Certificate2Collection authorities;
        try
        {
            authorities = [];
            authorities.ImportFromPemFile(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new InvalidOperationException($"The RabbitMQ address names a CA certificate ({CaCertificateParameter}={path}) that cannot be read: {exception.Message}",
                exception);
        }
        if (authorities.Count == 0)
            throw new InvalidOperationException($"The RabbitMQ address names a CA certificate ({CaCertificateParameter}={path}) with no certificate in it.");
        return (_, certificate, _, errors) =>
        {
            if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
                return false;
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            using var presented = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            return chain.Build(presented);
        };
    }
}
