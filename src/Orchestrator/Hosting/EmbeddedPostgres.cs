using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Orchestrator.Hosting;

/// <summary>
/// A throw-away private PostgreSQL for the embedded default (<c>orchestrator demo</c> with no connection string):
/// initdb in a fresh temporary folder, started on a free loopback port, stopped and deleted on dispose.
/// Needs Debian's <c>postgresql</c> package; as root it runs the server as the <c>postgres</c> user, since PostgreSQL
/// refuses to run as root.
/// </summary>
public sealed class EmbeddedPostgres : IAsyncDisposable
{
    const string Password = "orchestrator";
    readonly string _binaries;
    readonly string _dataDirectory;
    readonly bool _asPostgresUser;

    EmbeddedPostgres(string binaries, string dataDirectory, int port, bool asPostgresUser)
    {
        _binaries = binaries;
        _dataDirectory = dataDirectory;
        _asPostgresUser = asPostgresUser;
        ConnectionString = $"Host=127.0.0.1;Port={port};Username=orchestrator;Password={Password};Database=postgres";
    }

    public string ConnectionString { get; }

    public static async Task<EmbeddedPostgres> StartAsync(CancellationToken cancellationToken)
    {
        var binaries = FindBinaries() ?? throw new InvalidOperationException(
            "PostgreSQL is not installed: run 'apt-get install postgresql' (the README's run command does it), "
            + "or set ConnectionStrings__Postgres to a server of your own.");
        var asPostgresUser = Environment.UserName == "root";
        var dataDirectory = Directory.CreateTempSubdirectory("orchestrator-demo-pg-").FullName;
        var port = FreePort();
        var postgres = new EmbeddedPostgres(binaries, dataDirectory, port, asPostgresUser);
        await postgres.InitAndStart(port, cancellationToken);
        return postgres;
    }

    async Task InitAndStart(int port, CancellationToken cancellationToken)
    {
        var passwordFile = Path.Combine(_dataDirectory, "pwfile");
        var cluster = Path.Combine(_dataDirectory, "cluster");
        await File.WriteAllTextAsync(passwordFile, Password, cancellationToken);
        if (_asPostgresUser)
            await Run("chown", ["-R", "postgres:postgres", _dataDirectory], asPostgres: false, cancellationToken);

        await Run(Path.Combine(_binaries, "initdb"),
            ["-D", cluster, "-U", "orchestrator", "--pwfile", passwordFile, "--auth", "scram-sha-256", "-E", "UTF8"],
            _asPostgresUser, cancellationToken);
        await Run(Path.Combine(_binaries, "pg_ctl"),
            ["-D", cluster, "-l", Path.Combine(_dataDirectory, "server.log"), "-w", "-t", "60",
             "-o", $"-p {port} -c listen_addresses=127.0.0.1 -k {_dataDirectory} -c fsync=off", "start"],
            _asPostgresUser, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Run(Path.Combine(_binaries, "pg_ctl"), ["-D", Path.Combine(_dataDirectory, "cluster"), "-m", "fast", "-w", "stop"],
                _asPostgresUser, CancellationToken.None);
        }
        finally
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    static string? FindBinaries() =>
        Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(version => Path.Combine(version, "bin"))
                .Where(bin => File.Exists(Path.Combine(bin, "initdb")))
                .OrderByDescending(bin => bin, StringComparer.Ordinal)
                .FirstOrDefault()
            : null;

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    static async Task Run(string program, string[] arguments, bool asPostgres, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(asPostgres ? "runuser" : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/",
        };
        if (asPostgres)
        {
            foreach (var argument in (string[])["-u", "postgres", "--", program])
                start.ArgumentList.Add(argument);
        }
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(program)} failed ({process.ExitCode}): {await error}{await output}");
    }
}
