using System.Text.Json.Nodes;

namespace Orchestrator.Workers.Qemu;

/// <summary>
/// The encrypted migration stream: each host's credentials (<see cref="QemuOptions.TlsDirectory"/>) and the
/// <c>tls-creds-x509</c> object a QEMU gets from them. The destination is the TLS server and checks the source's client
/// certificate (<c>verify-peer</c>); the source is the client and checks the destination's certificate against the CA
/// and against the target's host name (<c>tls-hostname</c>). QEMU reads the files when the object is added, so a
/// credential renewed on disk takes effect at the next migration.
/// </summary>
public static class QemuTls
{
    /// <summary>The id of the object in every QEMU; added again (after <c>object-del</c>) for each migration.</summary>
    public const string ObjectId = "orchestrator-migration-tls";

    public enum Endpoint { Server, Client }

    static string[] Files(Endpoint endpoint) => endpoint == Endpoint.Server
        ? ["ca-cert.pem", "server-cert.pem", "server-key.pem"]
        : ["ca-cert.pem", "client-cert.pem", "client-key.pem"];

    /// <summary>The directory of <paramref name="host"/>'s credentials: its own sub-directory when there is one, else the top.</summary>
    public static string? DirectoryFor(QemuOptions options, string host)
    {
        if (string.IsNullOrWhiteSpace(options.TlsDirectory))
            return null;
        var own = Path.Combine(options.TlsDirectory, host);
        return Directory.Exists(own) ? own : options.TlsDirectory;
    }

    /// <summary>Why <paramref name="host"/> cannot be this end of an encrypted migration (naming what is missing), or null.</summary>
    public static string? Problem(QemuOptions options, string host, Endpoint endpoint)
    {
        var role = endpoint == Endpoint.Server ? "destination (TLS server)" : "source (TLS client)";
        if (DirectoryFor(options, host) is not { } directory)
            return $"The policy requires an encrypted migration stream, and host '{host}' has no TLS credentials to be its {role}: "
                + "its worker has no Qemu:TlsDirectory (infra/tls.sh makes development ones). Nothing falls back to plain TCP.";
        var missing = Files(endpoint).Where(f => !File.Exists(Path.Combine(directory, f))).ToList();
        return missing.Count == 0 ? null
            : $"The policy requires an encrypted migration stream, and host '{host}' cannot be its {role}: "
                + $"{string.Join(", ", missing)} missing in {directory} (Qemu:TlsDirectory). Nothing falls back to plain TCP.";
    }

    /// <summary>
    /// Gives the QEMU behind <paramref name="qmp"/> the credentials of <paramref name="host"/> as <paramref name="endpoint"/>,
    /// replacing an object left by an earlier migration; throws <see cref="Workers.Drivers.HypervisorStepException"/> with
    /// QEMU's reason when it cannot read them.
    /// </summary>
    public static async Task Install(QmpClient qmp, QemuOptions options, string host, Endpoint endpoint, string? vmRunningOn,
        CancellationToken cancellationToken)
    {
        if (Problem(options, host, endpoint) is { } problem)
            throw new Drivers.HypervisorStepException(problem, vmRunningOn);
        try
        {
            await qmp.ExecuteAsync("object-del", new JsonObject { ["id"] = ObjectId }, options.CommandTimeout, cancellationToken);
        }
        catch (QmpException)
        {
            // None yet.
        }
        try
        {
            await qmp.ExecuteAsync("object-add", new JsonObject
            {
                ["qom-type"] = "tls-creds-x509",
                ["id"] = ObjectId,
                ["dir"] = DirectoryFor(options, host),
                ["endpoint"] = endpoint == Endpoint.Server ? "server" : "client",
                // The server asks for the client's certificate; the client checks the server's (QEMU's default, said here).
                ["verify-peer"] = true,
            }, options.CommandTimeout, cancellationToken);
        }
        catch (QmpException exception)
        {
            throw new Drivers.HypervisorStepException($"QEMU on '{host}' cannot load the TLS credentials of the migration stream from "
                + $"{DirectoryFor(options, host)}: {exception.Description}. Nothing falls back to plain TCP.", vmRunningOn);
        }
    }
}
