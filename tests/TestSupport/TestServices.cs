namespace Orchestrator.TestSupport;

/// <summary>
/// Where the real services run during tests: the environment the test command sets (infra/services.sh env), or the
/// defaults of the project's private instances.
/// </summary>
public static class TestServices
{
    public static string Postgres =>
        Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
        ?? "Host=127.0.0.1;Port=54329;Username=orchestrator;Password=orchestrator;Database=orchestrator";

    public static string RabbitMq =>
        Environment.GetEnvironmentVariable("ConnectionStrings__RabbitMq") ?? "amqp://orchestrator:orchestrator@127.0.0.1:56729/";
}
