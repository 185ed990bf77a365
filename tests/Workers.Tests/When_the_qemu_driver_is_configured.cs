using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orchestrator.Workers.Qemu;

namespace Orchestrator.Workers.Tests;

/// <summary>The qemu driver's settings: what it refuses at start-up.</summary>
public sealed class When_the_qemu_driver_is_configured
{
    static QemuOptions Resolve(Action<QemuOptions> configure)
    {
        var services = new ServiceCollection();
        services.AddLogging().AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddQemuDriver(configure);
        return services.BuildServiceProvider().GetRequiredService<IOptions<QemuOptions>>().Value;
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    [InlineData("host-b.example")]
    public void Should_refuse_a_listen_address_the_source_could_not_be_told_to_connect_to(string address)
    {
        var refused = Should.Throw<OptionsValidationException>(() => Resolve(qemu => qemu.ListenAddress = address));

        refused.Message.ShouldContain("Qemu:ListenAddress");
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.20.30.40")]
    [InlineData("fd00::7")]
    public void Should_accept_an_ip_address_of_the_host(string address) =>
        Resolve(qemu => qemu.ListenAddress = address).ListenAddress.ShouldBe(address);
}
