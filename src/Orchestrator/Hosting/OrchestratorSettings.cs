using Microsoft.Extensions.Configuration;

namespace Orchestrator.Hosting;

/// <summary>
/// Connection settings, from configuration or environment (<c>ConnectionStrings__Postgres</c>,
/// <c>ConnectionStrings__RabbitMq</c>, <c>Orchestrator__Schema</c>). The defaults are where infra/services.sh starts
/// the project's private services.
/// </summary>
public sealed record OrchestratorSettings(string Postgres, string RabbitMq, string Schema)
{
    public const string DefaultPostgres = "Host=127.0.0.1;Port=54329;Username=orchestrator;Password=orchestrator;Database=orchestrator";
    public const string DefaultRabbitMq = "amqp://orchestrator:orchestrator@127.0.0.1:56729/";
    public const string DefaultSchema = "orchestrator";

    public static OrchestratorSettings From(IConfiguration configuration) => new(
        configuration.GetConnectionString("Postgres") ?? DefaultPostgres,
        configuration.GetConnectionString("RabbitMq") ?? DefaultRabbitMq,
        configuration["Orchestrator:Schema"] ?? DefaultSchema);

    /// <summary>True when a PostgreSQL connection string was configured (the demo starts its own otherwise).</summary>
    public static bool HasPostgres(IConfiguration configuration) => configuration.GetConnectionString("Postgres") is not null;

    /// <summary>The settings of a command that runs no host (see <see cref="OrchestratorConfiguration"/>).</summary>
    public static IConfiguration LoadConfiguration() => OrchestratorConfiguration.Load();
}
