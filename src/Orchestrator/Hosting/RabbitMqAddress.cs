using MassTransit;

namespace Orchestrator.Hosting;

/// <summary>Reads an <c>amqp://user:password@host:port/vhost</c> address into MassTransit's host settings.</summary>
public static class RabbitMqAddress
{
    public static void Configure(IRabbitMqBusFactoryConfigurator cfg, string address)
    {
        var uri = new Uri(address);
        var userInfo = uri.UserInfo.Split(':', 2);
        var vhost = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        cfg.Host(uri.Host, (ushort)(uri.IsDefaultPort || uri.Port <= 0 ? 5672 : uri.Port), vhost.Length == 0 ? "/" : vhost, host =>
        {
            if (userInfo[0].Length > 0)
                host.Username(Uri.UnescapeDataString(userInfo[0]));
            if (userInfo.Length > 1)
                host.Password(Uri.UnescapeDataString(userInfo[1]));
        });
    }
}
