using JasperFx.Events.Daemon;
using JasperFx.Events.Projections;
using Marten;
using Orchestrator.Contracts;
using Orchestrator.ReadModels.Attention;
using Orchestrator.ReadModels.Audit;
using Orchestrator.ReadModels.Audit.Ledger;
using Orchestrator.ReadModels.Hosts;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.ReadModels;

/// <summary>How the executable composes this module into the Marten store.</summary>
public static class ReadModelsRegistration
{
    public static void ConfigureReadModels(this StoreOptions options)
    {
        // Every migration event by its stored name, whether or not a projection of this process handles it: a stored
        // event is read by its name (the contract), never by the .NET type that wrote it, which may have moved since.
        options.Events.AddEventTypes(typeof(IMigrationEvent).Assembly.GetExportedTypes()
            .Where(type => type is { IsClass: true, IsAbstract: false } && type.IsAssignableTo(typeof(IMigrationEvent))));
        options.Projections.Add<MigrationSummaryProjection>(ProjectionLifecycle.Inline);
        // Every appended event is chained to the one before it; the hashes travel in the event headers.
        options.Events.MetadataConfig.HeadersEnabled = true;
        // The audit export carries who and what caused each event.
        options.Events.MetadataConfig.CorrelationIdEnabled = true;
        options.Events.MetadataConfig.CausationIdEnabled = true;
        options.Listeners.Add(new HashChainListener());
        // The ledger over every stream and its signed checkpoints (Audit/Ledger).
        options.ConfigureLedger();
        options.Schema.For<MigrationSummary>().Index(x => x.VmId).Index(x => x.State);
        // Dashboards: asynchronous, run on one serve node at a time (Marten's HotCold daemon, see the executable's
        // AddEventStore); each can be rebuilt from the events.
        options.Projections.Add<HostLoadProjection>(ProjectionLifecycle.Async);
        options.Projections.Add<AttentionProjection>(ProjectionLifecycle.Async);
        options.Schema.For<MigrationAttention>().Index(x => x.LastEventAt);
        // A store without the hosted daemon (the CLI, tests, the benchmark) runs the projections itself when it needs
        // them; saying so also keeps Marten from printing a "daemon disabled" warning on standard output, where the
        // CLI writes its NDJSON export. The serve role turns the hosted daemon on (HotCold).
        options.Projections.AsyncMode = DaemonMode.ExternallyManaged;
    }
}
