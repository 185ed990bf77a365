using JasperFx;
using JasperFx.Events.Daemon;
using Marten;
using MassTransit;
using Npgsql;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orchestrator.ReadModels;
using Orchestrator.Workers;
using Orchestrator.Workers.Sim;
using Orchestrator.Workflows;
using Orchestrator.Workflows.Admission;
using Orchestrator.Workflows.Migration;
using Orchestrator.Workflows.Outbox;
using Orchestrator.Workflows.Policy;
using Orchestrator.Workflows.Resilience;
using Orchestrator.Api;
using Orchestrator.Events;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Hosting;

/// <summary>What each role of the executable puts into the host: the one place where the modules meet.</summary>
public static class Roles
{
    public static IServiceCollection AddEventStore(this IServiceCollection services, OrchestratorSettings settings)
    {
        services.AddMarten(options => Configure(options, settings)).ApplyAllDatabaseChangesOnStartup()
            // The asynchronous read models (host load, attention queue), run by one node of many: Marten's HotCold
            // daemon, elected by an advisory lock per schema (Configure).
            .AddAsyncDaemon(DaemonMode.HotCold);
        // Readiness (/health/ready): the database answers. The bus adds its own check (MassTransit, tagged "ready").
        services.AddHealthChecks().AddNpgSql(settings.Postgres, name: "postgresql", tags: [HealthEndpoints.Ready], timeout: TimeSpan.FromSeconds(3));
        return services;
    }

    /// <summary>The one Marten configuration: the workflows' documents, the event store, the read models.</summary>
    public static void Configure(StoreOptions options, OrchestratorSettings settings)
    {
        // Pooled connections are not reset (DISCARD ALL) when a session gives them back: a reset would throw away the
        // plans PostgreSQL cached for the event-append function and the document upserts, which every transition runs.
        // Nothing here leaves session state behind (the projection daemon releases its advisory lock when it stops).
        options.Connection(new NpgsqlConnectionStringBuilder(settings.Postgres) { NoResetOnClose = true, MaxAutoPrepare = 64, AutoPrepareMinUsages = 2 }.ConnectionString);
        options.DatabaseSchemaName = settings.Schema;
        options.Events.DatabaseSchemaName = settings.Schema;
        options.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;
        options.ConfigureWorkflows();
        options.ConfigureReadModels();
        // Marten's advisory locks, one set per schema, so that orchestrators (or test runs) sharing a database in
        // different schemas neither wait for each other's schema changes nor share one projection leader.
        options.ApplyChangesLockId = AdvisoryLockId(settings.Schema, "schema-changes");
        options.Projections.DaemonLockId = AdvisoryLockId(settings.Schema, "projections");
    }

    /// <summary>A stable advisory-lock id per schema and purpose (FNV-1a): the same on every node and every start.</summary>
    static int AdvisoryLockId(string schema, string purpose)
    {
        var hash = 2166136261u;
        foreach (var c in $"orchestrator-{purpose}:{schema}")
            hash = (hash ^ c) * 16777619u;
        return (int)hash;
    }

    /// <summary>Everything a role needs on the bus; <paramref name="workerHosts"/> empty means no worker in this process.</summary>
    public static IServiceCollection AddBus(this IServiceCollection services, OrchestratorSettings settings, BusOptions options)
    {
        if (options.WorkerHosts.Count > 0 && options.Hypervisor == Contracts.HypervisorKinds.Qemu)
            services.AddQemuDriver(options.ConfigureQemu);
        else if (options.WorkerHosts.Count > 0)
        {
            services.AddSimDriver(options.ConfigureSim);
            if (options.SharedSimFleet)
            {
                services.AddOptions<ResilienceOptions>().BindConfiguration(ResilienceOptions.Section);
                services.AddSharedSimFleet(settings.Postgres, settings.Schema,
                    provider => provider.GetRequiredService<IOptions<ResilienceOptions>>().Value.OutageBudget);
            }
        }
        if (options.Workflows)
        {
            services.AddOptions<AdmissionOptions>().BindConfiguration(AdmissionOptions.Section)
                .Configure(admission => options.ConfigureAdmission?.Invoke(admission));
            // The hosts' links: a drain's forecast shares the drained host's uplink, and admission shares every link when told to.
            services.AddOptions<Workflows.Scheduling.HostLinkOptions>().BindConfiguration(Workflows.Scheduling.HostLinkOptions.Section)
                .Configure(links => options.ConfigureLinks?.Invoke(links));
            // A named policy with a value a StartMigration could not carry stops the process here, naming it.
            services.AddSingleton<IValidateOptions<MigrationPolicyOptions>, MigrationPolicyOptionsValidator>();
            services.AddOptions<MigrationPolicyOptions>().BindConfiguration(MigrationPolicyOptions.Section)
                .Configure(policies => options.ConfigurePolicies?.Invoke(policies))
                .ValidateOnStart();
            services.AddOptions<ResilienceOptions>().BindConfiguration(ResilienceOptions.Section);
            services.AddOptions<Workflows.Persistence.GroupCommitOptions>().BindConfiguration(Workflows.Persistence.GroupCommitOptions.Section);
            services.AddOptions<Workflows.Intake.IntakeOptions>().BindConfiguration(Workflows.Intake.IntakeOptions.Section);
            services.AddOptions<SagaEndpointOptions>().BindConfiguration(SagaEndpointOptions.Section);
            services.AddOptions<TimeoutOptions>().BindConfiguration(TimeoutOptions.Section)
                .Configure(timeouts => options.ConfigureTimeouts?.Invoke(timeouts));
        }

        // MassTransit's anonymous usage report would phone home some minutes after the start: off, for every bus.
        services.Configure<UsageTelemetryOptions>(usage => usage.Enabled = false);
        services.AddMassTransit(bus =>
        {
            if (options.Workflows)
                bus.AddMigrationWorkflows();
            if (options.Workflows && !options.InMemory)
                bus.AddCloudEventRelays();
            if (options.WorkerHosts.Count > 0)
                bus.AddWorkerConsumers(options.ConfigureWorker);

            if (options.InMemory)
            {
                bus.UsingInMemory((context, cfg) =>
                {
                    ExcludeMarkerInterfaces(cfg);
                    cfg.ConfigureWorkerEndpoints(context, options.Hypervisor, options.WorkerHosts);
                    cfg.ConfigureEndpoints(context);
                });
                return;
            }

            bus.UsingRabbitMq((context, cfg) =>
            {
                RabbitMqAddress.Configure(cfg, settings.RabbitMq);
                ExcludeMarkerInterfaces(cfg);
                if (options.Workflows)
                {
                    // The outcome exchanges exist from the start, before the first outcome is published.
                    cfg.DeployPublishTopology = true;
                    cfg.AddPublishMessageTypes(PublishedEvents.All);
                }
                cfg.ConfigureWorkerEndpoints(context, options.Hypervisor, options.WorkerHosts);
                cfg.ConfigureEndpoints(context);
            });
        });
        // The outbox dispatcher's own connection to RabbitMQ (Workflows/Outbox/IOutboxBus): a poison it retries closes
        // only this bus's channel, never the one every transition sends on. It consumes nothing.
        if (options.Workflows && !options.InMemory)
        {
            services.AddMassTransit<IOutboxBus>(bus => bus.UsingRabbitMq((_, cfg) =>
            {
                RabbitMqAddress.Configure(cfg, settings.RabbitMq);
                ExcludeMarkerInterfaces(cfg);
            }));
        }
        if (options.Workflows && !options.InMemory)
        {
            services.AddSingleton(provider => new CloudEventPublisher(settings.RabbitMq, provider.GetRequiredService<ILogger<CloudEventPublisher>>()));
            services.AddHostedService<EventsExchangeDeclaration>();
            services.AddHostedService(provider => new SagaBacklogProbe(settings.RabbitMq, provider.GetRequiredService<Workflows.Intake.SagaBacklog>(),
                provider.GetRequiredService<IOptions<Workflows.Intake.IntakeOptions>>(), provider.GetRequiredService<ILogger<SagaBacklogProbe>>()));
        }
        return services;
    }

    /// <summary>
    /// One relay per integration event, all on one queue: each event the bus carries is also written to
    /// <c>orchestrator.events</c> as a CloudEvent for services without MassTransit (docs/integrate.md).
    /// </summary>
    static void AddCloudEventRelays(this IBusRegistrationConfigurator bus)
    {
        foreach (var @event in Contracts.PublicContract.Events)
            bus.AddConsumer(typeof(CloudEventRelay<>).MakeGenericType(@event.Type), typeof(CloudEventRelayDefinition<>).MakeGenericType(@event.Type));
    }

    /// <summary>
    /// <see cref="Contracts.IMigrationEvent"/> only lets read models find an event's time: it gets no exchange of its own,
    /// so the bus topology a subscriber sees is the events themselves.
    /// </summary>
    static void ExcludeMarkerInterfaces(IBusFactoryConfigurator cfg) => cfg.Publish<Contracts.IMigrationEvent>(p => p.Exclude = true);
}
