using System.Security.Authentication;
using Marten;
using Npgsql;
using Orchestrator.Contracts;
using Orchestrator.Hosting;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Tests;

/// <summary>
/// TLS to PostgreSQL and RabbitMQ (issue 19 item 3): infra/services.sh starts both with TLS listeners and a server
/// certificate from a development CA; `serve` and a sim worker, as processes, reach them with connection strings that
/// verify the server (SSL Mode=VerifyFull and Root Certificate; amqps:// with cacertfile) and move a VM. A server that
/// another CA signed is refused. Its own RabbitMQ virtual host and schema.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_the_orchestrator_reaches_its_services_over_tls : IAsyncLifetime
{
    const string ApplicationName = "orchestrator-tls-e2e";
    RabbitVhost _vhost = null!;
    readonly TestSchema _schema = TestSchema.Create("tls");
    DocumentStore _store = null!;

    public async ValueTask InitializeAsync()
    {
        _vhost = await RabbitVhost.Create("tls");
        _store = DocumentStore.For(options => Roles.Configure(options, new OrchestratorSettings(TestServices.Postgres, _vhost.ConnectionString, _schema.Name)));
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _store.DisposeAsync();
            await _vhost.DisposeAsync();
        }
        finally
        {
            await _schema.DisposeAsync();
        }
    }

    /// <summary>What ./test.sh exports from infra/services.sh, which makes TLS listeners whenever openssl is there.</summary>
    static string Required(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value
        : throw new InvalidOperationException($"{name} is not set: run the tests with ./test.sh (its infra/services.sh starts the TLS listeners; it needs openssl).");

    string TlsRabbitMq(string? caFile = null)
    {
        var address = new UriBuilder(Required("ORCHESTRATOR_TLS_RABBITMQ")) { Path = "/" + _vhost.Name };
        if (caFile is not null)
            address.Query = $"{RabbitMqAddress.CaCertificateParameter}={Uri.EscapeDataString(caFile)}";
        return address.Uri.ToString();
    }

    [Fact]
    public async Task Should_migrate_a_vm_with_every_connection_encrypted_and_each_server_verified()
    {
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = $"{Required("ORCHESTRATOR_TLS_POSTGRES")};Application Name={ApplicationName}",
            ["ConnectionStrings__RabbitMq"] = TlsRabbitMq(),
            ["Orchestrator__Schema"] = _schema.Name,
        };
        using var worker = OrchestratorProcess.Start(environment, "worker", "--driver", "sim", "--host", "tls-a", "--host", "tls-b", "--real-time-factor", "0.02");
        using var serve = OrchestratorProcess.Start(environment, "serve", "--urls", "http://127.0.0.1:0");
        var id = Guid.NewGuid();
        // The test's own client over TLS too, as a service in another language would connect.
        await using (var client = await PlainAmqpClient.ConnectAsync(TlsRabbitMq()))
        {
            await Eventually.Get(async () => await client.QueueExists(QueueNames.StartMigration) && await client.QueueExists(QueueNames.Worker("sim", "tls-a")),
                up => up, "the orchestrator and the worker to start", TimeSpan.FromSeconds(90));
            await client.PublishToQueue(QueueNames.StartMigration, $$"""
                {"migrationId":"{{id}}","vmId":"vm-tls","sourceHost":"tls-a","targetHost":"tls-b","hypervisor":"sim"}
                """);
        }

        MigrationSummary? summary;
        try
        {
            summary = await Eventually.Get(async () =>
            {
                await using var session = _store.QuerySession();
                return await session.Summary(id);
            }, s => s is { IsTerminal: true }, "the migration to end", TimeSpan.FromSeconds(90));
        }
        catch (TimeoutException timeout)
        {
            throw new TimeoutException($"{timeout.Message}\n--- serve ---\n{Tail(serve.Output)}\n--- worker ---\n{Tail(worker.Output)}", timeout);
        }
        summary!.State.ShouldBe(MigrationStates.Completed, summary.Reason);
        summary.RunningOn.ShouldBe("tls-b");

        // PostgreSQL's own view of the processes' connections: every one of them encrypted.
        await using var connection = new NpgsqlConnection(TestServices.Postgres);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand(
            "select count(*), count(*) filter (where s.ssl) from pg_stat_activity a join pg_stat_ssl s using (pid) where a.application_name = $1", connection)
        {
            Parameters = { new() { Value = ApplicationName } },
        };
        await using var reader = await query.ExecuteReaderAsync();
        await reader.ReadAsync();
        var (all, encrypted) = (reader.GetInt64(0), reader.GetInt64(1));
        all.ShouldBeGreaterThan(0, "serve and the worker hold pooled connections");
        encrypted.ShouldBe(all);
        // RabbitMQ's: on this vhost, every connection came in over TLS (the processes', none plain). list_connections
        // lists the whole node's (the other tests' too): each line is its vhost and its flag.
        var connections = await InfraScripts.Run("services.sh", new Dictionary<string, string>(), "rabbitmqctl", "list_connections", "-q", "vhost", "ssl");
        var flags = connections.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('\t', StringSplitOptions.TrimEntries))
            .Where(columns => columns.Length == 2 && columns[0] == _vhost.Name).Select(columns => columns[1]).ToList();
        flags.ShouldNotBeEmpty(connections);
        flags.ShouldAllBe(flag => flag == "true", connections);
    }

    [Fact]
    public async Task Should_refuse_servers_whose_certificate_another_ca_signed()
    {
        var rogue = Directory.CreateTempSubdirectory("orchestrator-rogue-ca-");
        try
        {
            await InfraScripts.Run("tls.sh", new Dictionary<string, string>(), "ca", rogue.FullName);
            var rogueCa = Path.Combine(rogue.FullName, "ca-cert.pem");

            var broker = await Should.ThrowAsync<Exception>(async () =>
            {
                await using var connection = await RabbitMqAddress.Factory(TlsRabbitMq(rogueCa), "tls-test").CreateConnectionAsync();
            });
            Causes(broker).OfType<AuthenticationException>().ShouldNotBeEmpty(broker.ToString());

            var database = new NpgsqlConnectionStringBuilder(Required("ORCHESTRATOR_TLS_POSTGRES")) { RootCertificate = rogueCa };
            var refused = await Should.ThrowAsync<Exception>(async () =>
            {
                await using var connection = new NpgsqlConnection(database.ConnectionString);
                await connection.OpenAsync();
            });
            Causes(refused).OfType<AuthenticationException>().ShouldNotBeEmpty(refused.ToString());

            // The right CA on the same addresses: both accept.
            await using (var broker2 = await RabbitMqAddress.Factory(TlsRabbitMq(), "tls-test").CreateConnectionAsync())
                broker2.IsOpen.ShouldBeTrue();
            await using var good = new NpgsqlConnection(Required("ORCHESTRATOR_TLS_POSTGRES"));
            await good.OpenAsync();
        }
        finally
        {
            rogue.Delete(recursive: true);
        }
    }

    static IEnumerable<Exception> Causes(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            yield return e;
            if (e is AggregateException aggregate)
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Causes))
                    yield return inner;
        }
    }

    static string Tail(string output) => output.Length > 4000 ? output[^4000..] : output;
}
