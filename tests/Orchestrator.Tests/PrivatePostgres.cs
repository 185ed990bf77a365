using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Orchestrator.Tests;

/// <summary>
/// A PostgreSQL of one test's own (infra/services.sh with its own data folder and port), so the test can stop and
/// start it without touching the one every other test uses.
/// </summary>
public sealed partial class PrivatePostgres : IAsyncDisposable
{
    readonly Dictionary<string, string> _environment;

    PrivatePostgres(Dictionary<string, string> environment, string connectionString)
    {
        _environment = environment;
        ConnectionString = connectionString;
    }

    public string ConnectionString { get; }

    public static async Task<PrivatePostgres> StartAsync()
    {
        var environment = new Dictionary<string, string>
        {
            ["ORCHESTRATOR_DATA_DIR"] = $"/var/tmp/orchestrator-test-pg-{Guid.NewGuid():N}"[..40],
            ["ORCHESTRATOR_PG_PORT"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        var exports = await InfraScripts.Run("services.sh", environment, "up", "postgres");
        var connection = PostgresExport().Match(exports);
        connection.Success.ShouldBeTrue(exports);
        return new PrivatePostgres(environment, connection.Groups[1].Value);
    }

    public Task Stop() => InfraScripts.Run("services.sh", _environment, "down", "postgres");

    public Task Start() => InfraScripts.Run("services.sh", _environment, "up", "postgres");

    public async ValueTask DisposeAsync()
    {
        await Stop();
        Directory.Delete(_environment["ORCHESTRATOR_DATA_DIR"], recursive: true);
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex("ConnectionStrings__Postgres=\"([^\"]+)\"")]
    private static partial Regex PostgresExport();
}
