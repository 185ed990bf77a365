using System.Net;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Workers.Consumers;
using Orchestrator.Workers.Drivers;
using Orchestrator.Workers.Qemu;
using Orchestrator.Workers.Sim;

namespace Orchestrator.Workers;

/// <summary>How the executable composes a worker: one driver, one command queue per host it serves.</summary>
public static class WorkersRegistration
{
    static readonly Type[] ConsumerTypes =
    [
        typeof(CheckMigrationConsumer), typeof(PrepareTargetConsumer), typeof(BeginTransferConsumer), typeof(CleanupSourceConsumer),
        typeof(AbortTransferConsumer), typeof(DestroyTargetConsumer), typeof(AdjustTransferConsumer), typeof(SwitchToPostCopyConsumer), typeof(LocateVmConsumer), typeof(DescribeHostConsumer),
        typeof(ListenForPostCopyRecoveryConsumer),
    ];

    /// <summary>Registers the simulated hypervisor as this process's driver.</summary>
    public static IServiceCollection AddSimDriver(this IServiceCollection services, Action<SimOptions>? configure = null)
    {
        services.AddOptions<SimOptions>().BindConfiguration(SimOptions.Section).Configure(options => configure?.Invoke(options))
            .Validate(options => Validate(options), "Sim: a profile named in Profile or HostProfiles is unknown (use generic, xen, esxi or hyperv, or define it under Sim:Profiles).")
            .ValidateOnStart();
        services.AddSingleton<SimulatedFleet>();
        services.TryAddSingleton<ISimFleet>(provider => provider.GetRequiredService<SimulatedFleet>());
        services.AddSingleton<IHypervisorDriver, SimDriver>();
        return services;
    }

    /// <summary>
    /// The sim driver's fleet in PostgreSQL (<paramref name="schema"/>), shared with every sim worker on that database,
    /// instead of one kept in this process. An outage of PostgreSQL is waited out for up to the budget.
    /// </summary>
    public static IServiceCollection AddSharedSimFleet(this IServiceCollection services, string connectionString, string schema,
        Func<IServiceProvider, TimeSpan> outageBudget)
    {
        services.AddSingleton(provider => new SharedSimFleetTables(connectionString, schema, provider.GetRequiredService<IOptions<SimOptions>>().Value.Placements));
        services.AddSingleton(provider => new SharedSimFleet(provider.GetRequiredService<SharedSimFleetTables>(), outageBudget(provider),
            provider.GetRequiredService<ILogger<SharedSimFleet>>()));
        services.Replace(ServiceDescriptor.Singleton<ISimFleet>(provider => provider.GetRequiredService<SharedSimFleet>()));
        return services;
    }

    static bool Validate(SimOptions options)
    {
        try
        {
            foreach (var name in options.HostProfiles.Values.Append(options.Profile))
                options.Named(name);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>Registers real QEMU over QMP as this process's driver (configuration section <c>Qemu</c>).</summary>
    public static IServiceCollection AddQemuDriver(this IServiceCollection services, Action<QemuOptions>? configure = null)
    {
        services.AddOptions<QemuOptions>().BindConfiguration(QemuOptions.Section).Configure(options => configure?.Invoke(options))
            .Validate(options => IPAddress.TryParse(options.ListenAddress, out var address) && !address.Equals(IPAddress.Any) && !address.Equals(IPAddress.IPv6Any),
                "Qemu:ListenAddress must be an IP address of this host that the source hosts can reach (e.g. 10.0.0.5): it goes into the "
                + "migration URI the source connects to, so not a wildcard (0.0.0.0, ::) and not a name.")
            .Validate(options => options.HostMemoryMiB is null or > 0, "Qemu:HostMemoryMiB must be greater than zero (or left out: /proc/meminfo is read).")
            .ValidateOnStart();
        services.AddSingleton<QemuHosts>();
        // With one worker per host, the destination's part of a post-copy recovery is asked of the target host's worker.
        services.AddSingleton<IDestinationWorkers>(provider => new BusDestinationWorkers(provider.GetRequiredService<IClientFactory>(), HypervisorKinds.Qemu));
        services.AddSingleton<IHypervisorDriver, QemuDriver>();
        return services;
    }

    public static void AddWorkerConsumers(this IBusRegistrationConfigurator bus, Action<WorkerOptions>? configure = null)
    {
        bus.AddSingleton<EpochFence>();
        bus.AddSingleton<ActiveTransfers>();
        bus.AddHostedService<HeartbeatSender>();
        bus.AddOptions<WorkerOptions>().BindConfiguration(WorkerOptions.Section).Configure(options => configure?.Invoke(options));
        foreach (var consumer in ConsumerTypes)
            bus.AddConsumer(consumer).ExcludeFromConfigureEndpoints();
    }

    /// <summary>One queue per host this worker serves, each taking every worker command.</summary>
    public static void ConfigureWorkerEndpoints(this IBusFactoryConfigurator configurator, IBusRegistrationContext context,
        string hypervisor, IEnumerable<string> hosts)
    {
        foreach (var host in hosts)
        {
            configurator.ReceiveEndpoint(QueueNames.Worker(hypervisor, host), endpoint =>
            {
                endpoint.ConfigureConsumeTopology = false;
                // A transfer runs for the time it takes; other commands for the same host must not wait behind it.
                endpoint.ConcurrentMessageLimit = 16;
                foreach (var consumer in ConsumerTypes)
                    endpoint.ConfigureConsumer(context, consumer);
            });
        }
    }
}
