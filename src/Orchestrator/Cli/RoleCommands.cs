using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Orchestrator.Api;
using Orchestrator.Contracts;
using Orchestrator.Hosting;
using Orchestrator.Workflows.Intake;
using Serilog;

namespace Orchestrator.Cli;

/// <summary>The long-running roles, each a host that runs until it is stopped.</summary>
public static class RoleCommands
{
    public static Command Serve()
    {
        var urls = new Option<string>("--urls") { Description = "Where the HTTP API listens.", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        var command = new Command("serve", "Run the workflows (the migration saga, the public command endpoints) and the HTTP API, on RabbitMQ and PostgreSQL.") { urls };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var builder = WebApplication.CreateBuilder();
            UseSerilog(builder.Services, builder.Configuration);
            builder.WebHost.UseUrls(parse.GetValue(urls)!);
            var settings = OrchestratorSettings.From(builder.Configuration);
            builder.Services.AddEventStore(settings).AddBus(settings, new BusOptions { Workflows = true }).AddOrchestratorApi();
            var app = builder.Build();
            app.UseOrchestratorApi();
            await app.RunAsync(cancellationToken);
            return 0;
        });
        return command;
    }

    public static Command Worker()
    {
        var driver = new Option<string>("--driver") { Description = "The hypervisor driver.", DefaultValueFactory = _ => HypervisorKinds.Sim };
        driver.OneOf(HypervisorKinds.All, "a hypervisor driver");
        var hosts = new Option<string[]>("--host") { Description = "A host whose commands this worker carries out (repeatable).", Required = true, AllowMultipleArgumentsPerToken = false };
        var realTime = new Option<double>("--real-time-factor") { Description = "sim: wall seconds per simulated second (0 = simulated time).", DefaultValueFactory = _ => 0 };
        var profile = new Option<string?>("--profile") { Description = "sim: the hypervisor these hosts behave like (default: config Sim:Profile, else generic)." };
        profile.OneOf(Orchestrator.Workers.Sim.SimProfiles.Names, "a sim profile");
        var qemuRoot = new Option<string?>("--qemu-root") { Description = "qemu: the folder holding each host's VMs (<root>/<host>/<vm>/); default Qemu:RuntimeRoot." };
        var command = new Command("worker", "Run a worker that carries out migration steps on the named hosts.") { driver, hosts, realTime, profile, qemuRoot };
        command.SetAction(async (parse, cancellationToken) =>
        {
            // A host name becomes part of the worker's queue name (worker.<hypervisor>.<host>): the same grammar as every command's.
            if (parse.GetValue(hosts)!.Select(host => InputRules.NameProblem("--host", host)).FirstOrDefault(p => p is not null) is { } problem)
            {
                await Console.Error.WriteLineAsync(problem);
                return ExitCodes.Usage;
            }
            var builder = CreateBuilder();
            var settings = OrchestratorSettings.From(builder.Configuration);
            var factor = parse.GetValue(realTime);
            var simProfile = parse.GetValue(profile);
            builder.Services.AddBus(settings, new BusOptions
            {
                Hypervisor = parse.GetValue(driver)!,
                WorkerHosts = parse.GetValue(hosts)!,
                ConfigureSim = sim =>
                {
                    sim.RealTimeFactor = factor;
                    if (simProfile is not null)
                        sim.Profile = simProfile;
                },
                ConfigureQemu = qemu =>
                {
                    if (parse.GetValue(qemuRoot) is { Length: > 0 } root)
                        qemu.RuntimeRoot = Path.GetFullPath(root);
                },
            });
            await builder.Build().RunAsync(cancellationToken);
            return 0;
        });
        return command;
    }

    static HostApplicationBuilder CreateBuilder()
    {
        var builder = Host.CreateApplicationBuilder();
        UseSerilog(builder.Services, builder.Configuration);
        return builder;
    }

    static void UseSerilog(IServiceCollection services, Microsoft.Extensions.Configuration.IConfiguration configuration) =>
        services.AddSerilog((_, logger) => logger
            .ReadFrom.Configuration(configuration)
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft", Serilog.Events.LogEventLevel.Warning)
            .MinimumLevel.Override("MassTransit", Serilog.Events.LogEventLevel.Information)
            .Enrich.FromLogContext()
            .WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj} {Properties:j}{NewLine}{Exception}"));
}
