using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Orchestrator.Api;
using Orchestrator.Contracts;
using Orchestrator.Hosting;
using Orchestrator.Telemetry;
using Orchestrator.Workflows.Intake;
using Serilog;

namespace Orchestrator.Cli;

/// <summary>The long-running roles, each a host that runs until it is stopped.</summary>
public static class RoleCommands
{
    public static Command Serve()
    {
        var urls = new Option<string?>("--urls") { Description = "Where the HTTP API listens (default: the urls setting, e.g. ASPNETCORE_URLS, else http://127.0.0.1:5080)." };
        var command = new Command("serve", "Run the workflows (the migration saga, the public command endpoints) and the HTTP API, on RabbitMQ and PostgreSQL.") { urls };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var builder = WebApplication.CreateBuilder();
            OrchestratorConfiguration.AddBesideExecutable(builder.Configuration, builder.Environment.EnvironmentName);
            UseSerilog(builder.Services, builder.Configuration);
            // --urls, else the host's own urls setting (ASPNETCORE_URLS: what a container image sets), else loopback.
            builder.WebHost.UseUrls(parse.GetValue(urls) ?? builder.Configuration["urls"] ?? "http://127.0.0.1:5080");
            var settings = OrchestratorSettings.From(builder.Configuration);
            builder.Services.AddEventStore(settings).AddBus(settings, new BusOptions { Workflows = true }).AddOrchestratorApi()
                .AddOrchestratorTelemetry(builder.Configuration, "serve")
                .AddHostedService<FleetGauges>();
            // Signed checkpoints of the audit ledger, every N events or T seconds and at shutdown (Audit:SigningKey).
            builder.Services.AddHostedService<AuditCheckpointService>();
            var app = builder.Build();
            app.UseOrchestratorApi();
            app.MapMetrics();
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
        var urls = new Option<string?>("--urls") { Description = "Where the worker's HTTP port listens: /health/live, /health/ready and /metrics (default: no HTTP port)." };
        var command = new Command("worker", "Run a worker that carries out migration steps on the named hosts.") { driver, hosts, realTime, profile, qemuRoot, urls };
        command.SetAction(async (parse, cancellationToken) =>
        {
            // A host name becomes part of the worker's queue name (worker.<hypervisor>.<host>): the same grammar as every command's.
            if (parse.GetValue(hosts)!.Select(host => InputRules.NameProblem("--host", host)).FirstOrDefault(p => p is not null) is { } problem)
            {
                await Console.Error.WriteLineAsync(problem);
                return ExitCodes.Usage;
            }
            // With --urls the worker is a web host too, for its health and metrics; without, a plain host.
            var listen = parse.GetValue(urls);
            var web = listen is null ? null : WebApplication.CreateBuilder();
            IHostApplicationBuilder builder = web is null ? Host.CreateApplicationBuilder() : web;
            OrchestratorConfiguration.AddBesideExecutable(builder.Configuration, builder.Environment.EnvironmentName);
            UseSerilog(builder.Services, builder.Configuration);
            var settings = OrchestratorSettings.From(builder.Configuration);
            var factor = parse.GetValue(realTime);
            var simProfile = parse.GetValue(profile);
            builder.Services.AddBus(settings, new BusOptions
            {
                Hypervisor = parse.GetValue(driver)!,
                WorkerHosts = parse.GetValue(hosts)!,
                // Several sim workers make one fleet: where VMs run lives in PostgreSQL, not in this process.
                SharedSimFleet = true,
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
            if (web is null)
            {
                await ((HostApplicationBuilder)builder).Build().RunAsync(cancellationToken);
                return 0;
            }
            web.WebHost.UseUrls(listen!);
            // Readiness: the bus is connected (MassTransit's own check, tagged "ready").
            web.Services.AddHealthChecks();
            web.Services.AddOrchestratorTelemetry(web.Configuration, "worker");
            var app = web.Build();
            app.MapHealthApi();
            app.MapMetrics();
            await app.RunAsync(cancellationToken);
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Logging from settings: the defaults below (Information; Microsoft and Marten, whose schema DDL and projection
    /// progress are chatty, at Warning), then the <c>Serilog</c> section, which wins (its MinimumLevel, its overrides; its
    /// WriteTo replaces the console sink instead of adding a second one). <c>Serilog:Format=json</c> writes compact JSON
    /// lines to the console instead of text.
    /// </summary>
    static void UseSerilog(IServiceCollection services, IConfiguration configuration) =>
        services.AddSerilog((_, logger) =>
        {
            logger.MinimumLevel.Information()
                .MinimumLevel.Override("Microsoft", Serilog.Events.LogEventLevel.Warning)
                .MinimumLevel.Override("Marten", Serilog.Events.LogEventLevel.Warning)
                .MinimumLevel.Override("Weasel", Serilog.Events.LogEventLevel.Warning)
                .MinimumLevel.Override("MassTransit", Serilog.Events.LogEventLevel.Information)
                .Enrich.FromLogContext()
                .ReadFrom.Configuration(configuration);
            if (configuration.GetSection("Serilog:WriteTo").Exists())
                return;
            if (string.Equals(configuration["Serilog:Format"], "json", StringComparison.OrdinalIgnoreCase))
                logger.WriteTo.Console(new Serilog.Formatting.Compact.RenderedCompactJsonFormatter());
            else
                logger.WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj} {Properties:j}{NewLine}{Exception}");
        });
}
