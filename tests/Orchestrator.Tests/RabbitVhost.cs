namespace Orchestrator.Tests;

/// <summary>
/// A RabbitMQ virtual host of one test's own on the run's broker (infra/vhost.sh). A test that starts consumers of the
/// orchestrator's queues outside <see cref="RabbitMqCollection"/> needs one: on the run's vhost they would take commands
/// meant for the shared orchestrator and store them in another schema.
/// </summary>
public sealed class RabbitVhost : IAsyncDisposable
{
    RabbitVhost(string name) => (Name, ConnectionString) = (name, new UriBuilder(TestServices.RabbitMq) { Path = "/" + name }.Uri.ToString());

    public string Name { get; }

    /// <summary>The run's broker, this vhost.</summary>
    public string ConnectionString { get; }

    public static async Task<RabbitVhost> Create(string prefix)
    {
        var vhost = new RabbitVhost($"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 17, 40)]);
        await InfraScripts.Run("vhost.sh", new Dictionary<string, string>(), "create", vhost.Name);
        return vhost;
    }

    public async ValueTask DisposeAsync() => await InfraScripts.Run("vhost.sh", new Dictionary<string, string>(), "delete", Name);
}
