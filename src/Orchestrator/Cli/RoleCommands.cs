using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orchestrator.Contracts;
using Orchestrator.Hosting;
using Serilog;

namespace Orchestrator.Cli;

/// <summary>The long-running roles, each a host that runs until it is stopped.</summary>
public static class RoleCommands
{
    public static Command Serve()
    {
        var command = new Command("serve", "Run the workflows: the migration saga and the public command endpoints, on RabbitMQ and PostgreSQL.");
        command.SetAction(async (_, cancellationToken) =>
        {
            var builder = CreateBuilder();
            var settings = OrchestratorSettings.From(builder.Configuration);
            builder.Services.AddEventStore(settings).AddBus(settings, new BusOptions { Workflows = true });
            await builder.Build().RunAsync(cancellationToken);
            return 0;
        });
        return command;
    }

    public static Command Worker()
    {
        var driver = new Option<string>("--driver") { Description = "The hypervisor driver.", DefaultValueFactory = _ => HypervisorKinds.Sim };
        driver.AcceptOnlyFromAmong(HypervisorKinds.Sim);
        var hosts = new Option<string[]>("--host") { Description = "A host whose commands this worker carries out (repeatable).", Required = true, AllowMultipleArgumentsPerToken = false };
        var realTime = new Option<double>("--real-time-factor") { Description = "sim: wall seconds per simulated second (0 = simulated time).", DefaultValueFactory = _ => 0 };
        var command = new Command("worker", "Run a worker that carries out migration steps on the named hosts.") { driver, hosts, realTime };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var builder = CreateBuilder();
            var settings = OrchestratorSettings.From(builder.Configuration);
            var factor = parse.GetValue(realTime);
            builder.Services.AddBus(settings, new BusOptions
            {
                Hypervisor = parse.GetValue(driver)!,
                WorkerHosts = parse.GetValue(hosts)!,
                ConfigureSim = sim => sim.RealTimeFactor = factor,
            });
            await builder.Build().RunAsync(cancellationToken);
            return 0;
        });
        return command;
    }

    static HostApplicationBuilder CreateBuilder()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSerilog((services, logger) => logger
            .ReadFrom.Configuration(builder.Configuration)
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft", Serilog.Events.LogEventLevel.Warning)
            .MinimumLevel.Override("MassTransit", Serilog.Events.LogEventLevel.Information)
            .Enrich.FromLogContext()
            .WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj} {Properties:j}{NewLine}{Exception}"));
        return builder;
    }
}
