using Orchestrator.Contracts;
using Orchestrator.Workers;
using Orchestrator.Workers.Qemu;
using Orchestrator.Workers.Sim;
using Orchestrator.Workflows.Admission;
using Orchestrator.Workflows.Migration;
using Orchestrator.Workflows.Policy;

namespace Orchestrator.Hosting;

/// <summary>Which parts of the system this process runs on its bus.</summary>
public sealed record BusOptions
{
    /// <summary>The migration saga and the public command endpoints.</summary>
    public bool Workflows { get; init; }

    /// <summary>MassTransit's in-memory transport (the demo) instead of RabbitMQ.</summary>
    public bool InMemory { get; init; }

    public string Hypervisor { get; init; } = HypervisorKinds.Sim;

    /// <summary>The hosts whose command queues this process serves as a worker.</summary>
    public IReadOnlyList<string> WorkerHosts { get; init; } = [];

    public Action<SimOptions>? ConfigureSim { get; init; }

    /// <summary>
    /// The sim worker keeps its fleet in PostgreSQL, shared with every sim worker on the same database and schema, rather
    /// than in this process (the demo and in-process tests, which have nobody to share it with).
    /// </summary>
    public bool SharedSimFleet { get; init; }

    /// <summary>qemu driver settings beyond the configuration's <c>Qemu</c> section (the CLI, tests).</summary>
    public Action<QemuOptions>? ConfigureQemu { get; init; }

    /// <summary>Worker runtime settings beyond the configuration's <c>Worker</c> section (tests).</summary>
    public Action<WorkerOptions>? ConfigureWorker { get; init; }

    /// <summary>Admission limits beyond the configuration's <c>Admission</c> section (tests).</summary>
    public Action<AdmissionOptions>? ConfigureAdmission { get; init; }

    /// <summary>The hosts' links beyond the configuration's <c>Links</c> section (tests).</summary>
    public Action<Workflows.Scheduling.HostLinkOptions>? ConfigureLinks { get; init; }

    /// <summary>Named migration policies beyond the configuration's <c>MigrationPolicies</c> section (tests).</summary>
    public Action<MigrationPolicyOptions>? ConfigurePolicies { get; init; }

    /// <summary>Workflow timeouts beyond the configuration's <c>Timeouts</c> section (tests).</summary>
    public Action<TimeoutOptions>? ConfigureTimeouts { get; init; }
}
