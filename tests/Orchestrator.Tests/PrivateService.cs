using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Orchestrator.Tests;

/// <summary>
/// A PostgreSQL or a RabbitMQ of one test's own (infra/services.sh with its own data folder and ports), so the test can
/// stop and start it without touching the one every other test uses.
/// </summary>
public sealed partial class PrivateService : IAsyncDisposable
{
    readonly Dictionary<string, string> _environment;
    readonly string _service;

    PrivateService(string service, Dictionary<string, string> environment, string connectionString)
    {
        _service = service;
        _environment = environment;
        ConnectionString = connectionString;
    }

    public string ConnectionString { get; }

    public static Task<PrivateService> StartPostgres() => StartAsync("postgres", "ORCHESTRATOR_PG_PORT");

    public static Task<PrivateService> StartRabbitMq() =>
        StartAsync("rabbitmq", "ORCHESTRATOR_RABBIT_PORT", "ORCHESTRATOR_RABBIT_DIST_PORT", "ORCHESTRATOR_EPMD_PORT", "ORCHESTRATOR_RABBIT_TLS_PORT");

    static async Task<PrivateService> StartAsync(string service, params string[] ports)
    {
        var environment = new Dictionary<string, string>
        {
            ["ORCHESTRATOR_DATA_DIR"] = $"/var/tmp/orchestrator-test-{service}-{Guid.NewGuid():N}"[..48],
        };
        foreach (var port in ports)
            environment[port] = FreePort().ToString(CultureInfo.InvariantCulture);
        var exports = await InfraScripts.Run("services.sh", environment, "up", service);
        var connection = ConnectionExport().Match(exports);
        connection.Success.ShouldBeTrue(exports);
        return new PrivateService(service, environment, connection.Groups[1].Value);
    }

    public Task Stop() => InfraScripts.Run("services.sh", _environment, "down", _service);

    public Task Start() => InfraScripts.Run("services.sh", _environment, "up", _service);

    public async ValueTask DisposeAsync()
    {
        await Stop();
        Directory.Delete(_environment["ORCHESTRATOR_DATA_DIR"], recursive: true);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex("ConnectionStrings__(?:Postgres|RabbitMq)=\"([^\"]+)\"")]
    private static partial Regex ConnectionExport();
}
