using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workers.Drivers;

namespace Orchestrator.Workers.Sim;

/// <summary>
/// The simulated hypervisor: a model of pre-copy live migration, not a hypervisor. It stands in for the hypervisors
/// these machines cannot run, for tests, demos and capacity planning.
/// </summary>
public sealed class SimDriver(SimulatedFleet fleet, IOptions<SimOptions> options) : IHypervisorDriver
{
    const long MiB = 1024 * 1024;
    readonly ConcurrentDictionary<Guid, CancellationTokenSource> _transfers = new();

    public string Kind => HypervisorKinds.Sim;

    public Task PrepareTargetAsync(PrepareTarget command, CancellationToken cancellationToken)
    {
        ThrowIfFaulted(HypervisorSteps.PrepareTarget, command.VmId, fleet.RunningOnOrPlace(command.VmId, command.SourceHost));
        fleet.PrepareTarget(command.MigrationId, command.TargetHost);
        return Task.CompletedTask;
    }

    public async Task MigrateAsync(BeginTransfer command, ITransferObserver observer, CancellationToken cancellationToken)
    {
        var runningOn = fleet.RunningOnOrPlace(command.VmId, command.SourceHost);
        if (runningOn == command.TargetHost)
        {
            // A redelivered BeginTransfer after the switchover: report the outcome again, move nothing.
            await observer.SwitchedOver(runningOn, 0);
            return;
        }
        if (runningOn != command.SourceHost)
            throw new HypervisorStepException($"VM '{command.VmId}' runs on '{runningOn}', not on the source '{command.SourceHost}'.", runningOn);
        if (!fleet.IsTargetPrepared(command.MigrationId, command.TargetHost))
            throw new HypervisorStepException($"No destination is prepared on '{command.TargetHost}' for migration {command.MigrationId}.", runningOn);

        using var transfer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _transfers[command.MigrationId] = transfer;
        try
        {
            await Transfer(command, observer, transfer.Token);
        }
        finally
        {
            _transfers.TryRemove(command.MigrationId, out _);
        }
    }

    async Task Transfer(BeginTransfer command, ITransferObserver observer, CancellationToken cancellationToken)
    {
        var vm = SimVm.FromId(command.VmId);
        var bandwidth = command.MaxBandwidthMiBps * MiB;
        long total = 0;
        foreach (var pass in PreCopyModel.Passes(vm, bandwidth, command.MaxDowntimeMs))
        {
            await Elapse(pass.Seconds, cancellationToken);
            ThrowIfFaulted(HypervisorSteps.Transfer, command.VmId, command.SourceHost);
            total += pass.BytesSent;
            await observer.RoundCompleted(new PreCopyPass(pass.Round, pass.BytesSent, pass.BytesRemaining,
                vm.DirtyRateBytesPerSecond, bandwidth, pass.ExpectedDowntimeMs));
            if (!pass.IsLast)
                continue;

            var downtimeMs = pass.ExpectedDowntimeMs;
            await Elapse(downtimeMs / 1000, cancellationToken);
            var stopAndCopyBytes = pass.BytesRemaining + PreCopyModel.DeviceStateBytes;
            total += stopAndCopyBytes;
            await observer.StoppedAndCopied(downtimeMs, stopAndCopyBytes);
            fleet.SwitchOver(command.MigrationId, command.VmId, command.TargetHost);
            await observer.SwitchedOver(command.TargetHost, total);
        }
    }

    public Task AbortAsync(AbortTransfer command, CancellationToken cancellationToken)
    {
        var runningOn = fleet.WhereIs(command.VmId);
        ThrowIfFaulted(HypervisorSteps.AbortTransfer, command.VmId, runningOn);
        if (runningOn is not null && runningOn != command.Host)
            throw new HypervisorStepException($"VM '{command.VmId}' already runs on '{runningOn}': the transfer completed and cannot be undone.", runningOn);
        if (_transfers.TryGetValue(command.MigrationId, out var transfer))
            transfer.Cancel();
        return Task.CompletedTask;
    }

    public Task DestroyTargetAsync(DestroyTarget command, CancellationToken cancellationToken)
    {
        ThrowIfFaulted(HypervisorSteps.DestroyTarget, command.VmId, fleet.WhereIs(command.VmId));
        fleet.RemoveTarget(command.MigrationId);
        return Task.CompletedTask;
    }

    public Task CleanupSourceAsync(CleanupSource command, CancellationToken cancellationToken)
    {
        ThrowIfFaulted(HypervisorSteps.CleanupSource, command.VmId, fleet.WhereIs(command.VmId));
        return Task.CompletedTask;
    }

    public Task<string?> WhereIsAsync(string vmId, CancellationToken cancellationToken) => Task.FromResult(fleet.WhereIs(vmId));

    Task Elapse(double simulatedSeconds, CancellationToken cancellationToken)
    {
        var factor = options.Value.RealTimeFactor;
        return factor <= 0
            ? Task.CompletedTask
            : Task.Delay(TimeSpan.FromSeconds(simulatedSeconds * factor), cancellationToken);
    }

    void ThrowIfFaulted(string step, string vmId, string? runningOn)
    {
        if (options.Value.Faults.Contains(new SimFault(step, vmId)))
            throw new HypervisorStepException($"Injected fault: {step} fails for VM '{vmId}'.", runningOn);
    }
}
