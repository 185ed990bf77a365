using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orchestrator.Workers.Qemu;

namespace Orchestrator.Workers.Tests;

/// <summary>The qemu driver's settings: what it refuses at start-up, and the machine figures it reads.</summary>
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

    [Fact]
    public void Should_refuse_a_host_memory_of_zero() =>
        Should.Throw<OptionsValidationException>(() => Resolve(qemu => qemu.HostMemoryMiB = 0)).Message.ShouldContain("Qemu:HostMemoryMiB");

    [Fact]
    public void Should_read_total_and_available_memory_from_meminfo()
    {
        const string meminfo = "MemTotal:       24683520 kB\nMemFree:        22748260 kB\nMemAvailable:   23848032 kB\nBuffers:          123 kB\n";

        HostMemory.Parse(meminfo).ShouldBe(new HostMemory(24683520L * 1024, 23848032L * 1024));
    }

    [Fact]
    public void Should_say_what_to_configure_when_meminfo_lacks_the_figures() =>
        Should.Throw<InvalidDataException>(() => HostMemory.Parse("MemTotal: 1 kB\n")).Message.ShouldContain("Qemu:HostMemoryMiB");
}
