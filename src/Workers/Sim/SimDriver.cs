using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workers.Drivers;

namespace Orchestrator.Workers.Sim;

/// <summary>
/// The simulated hypervisor: a model of live migration, not a hypervisor. It stands in for the hypervisors these
/// machines cannot run, for tests, demos and capacity planning.
/// </summary>
public sealed class SimDriver(SimulatedFleet fleet, IOptions<SimOptions> options) : IHypervisorDriver
{
    const long MiB = 1024 * 1024;
    readonly ConcurrentDictionary<Guid, SimTransfer> _transfers = new();

    public string Kind => HypervisorKinds.Sim;

    public Task<PreflightResult> PreflightAsync(CheckMigration command, CancellationToken cancellationToken)
    {
        ThrowIfFaulted(MigrationSteps.Preflight, command.VmId, fleet.WhereIs(command.VmId));
        var vm = options.Value.Vm(command.VmId);
        if (command.Hypervisor != Kind)
            return Verdict($"This worker serves '{Kind}' hosts; the migration asks for '{command.Hypervisor}'.", vm, null);
        var runningOn = fleet.RunningOnOrPlace(command.VmId, command.SourceHost);
        if (runningOn != command.SourceHost)
            return Verdict($"VM '{command.VmId}' runs on '{runningOn}', not on the source '{command.SourceHost}'.", vm, null);
        var used = fleet.VmsOn(command.TargetHost).Sum(id => options.Value.Vm(id).MemoryBytes);
        if (used + vm.MemoryBytes > options.Value.HostMemoryBytes)
            return Verdict($"Target '{command.TargetHost}' has {(options.Value.HostMemoryBytes - used) / (double)(1L << 30):0.#} GiB free; "
                + $"VM '{command.VmId}' needs {vm.MemoryBytes / (double)(1L << 30):0.#} GiB.", vm, null);

        var bandwidth = command.MaxBandwidthMiBps * MiB;
        var predicted = PreCopyModel.Passes(vm, bandwidth, command.MaxDowntimeMs).Last().ExpectedDowntimeMs;
        if (predicted <= command.MaxDowntimeMs || command.AllowPostCopy)
            return Verdict(null, vm, predicted);
        if (command.AllowAutoConverge)
        {
            // At the deepest throttle the guest dirties a hundredth of its memory as fast.
            var throttled = PreCopyModel.Passes(vm with { DirtyRateBytesPerSecond = vm.DirtyRateBytesPerSecond / 100 }, bandwidth, command.MaxDowntimeMs).Last();
            if (throttled.ExpectedDowntimeMs <= command.MaxDowntimeMs)
                return Verdict(null, vm, throttled.ExpectedDowntimeMs);
        }
        return Verdict($"Predicted downtime {predicted:0} ms exceeds the limit {command.MaxDowntimeMs} ms: VM '{command.VmId}' dirties "
            + $"{vm.DirtyRateBytesPerSecond / MiB} MiB/s of a {vm.WorkingSetBytes / MiB} MiB working set against {command.MaxBandwidthMiBps} MiB/s. "
            + "Allow post-copy or auto-converge, give it more bandwidth, or raise the downtime limit.", vm, predicted);

        static Task<PreflightResult> Verdict(string? problem, SimVm vm, double? predicted) =>
            Task.FromResult(new PreflightResult(problem, vm.MemoryBytes, predicted));
    }

    public Task PrepareTargetAsync(PrepareTarget command, CancellationToken cancellationToken)
    {
        ThrowIfFaulted(MigrationSteps.PrepareTarget, command.VmId, fleet.RunningOnOrPlace(command.VmId, command.SourceHost));
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

        using var transfer = new SimTransfer(command.MaxDowntimeMs, command.MaxBandwidthMiBps);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, transfer.Cancellation.Token);
        _transfers[command.MigrationId] = transfer;
        try
        {
            await Transfer(command, transfer, observer, linked.Token);
        }
        finally
        {
            _transfers.TryRemove(command.MigrationId, out _);
        }
    }

    /// <summary>
    /// Pre-copy passes under the transfer's current limits until the rest fits the downtime limit, the pass cap is
    /// reached, or post-copy is asked for (the <c>postcopy</c> strategy asks right after the first pass).
    /// </summary>
    async Task Transfer(BeginTransfer command, SimTransfer transfer, ITransferObserver observer, CancellationToken cancellationToken)
    {
        var configured = options.Value.Vm(command.VmId);
        var toSend = configured.MemoryBytes;
        long total = 0;
        double elapsed = 0;
        for (var round = 1; ; round++)
        {
            var vm = configured with { DirtyRateBytesPerSecond = configured.DirtyRateAt(elapsed) };
            var bandwidth = transfer.MaxBandwidthMiBps * MiB;
            var throttle = transfer.ThrottlePercent;
            var (seconds, dirtied) = PreCopyModel.Pass(vm, toSend, bandwidth, throttle);
            await Elapse(seconds, cancellationToken);
            elapsed += seconds;
            ThrowIfFaulted(MigrationSteps.Transfer, command.VmId, command.SourceHost);
            total += toSend;
            var expectedDowntimeMs = PreCopyModel.ExpectedDowntimeMs(dirtied, bandwidth);
            var dirtyRate = (long)(vm.DirtyRateBytesPerSecond * (100 - throttle) / 100.0);
            await observer.RoundCompleted(new PreCopyPass(round, toSend, dirtied, dirtyRate, bandwidth, expectedDowntimeMs, throttle));
            toSend = dirtied;

            if (command.Strategy == MigrationStrategies.PostCopy || transfer.PostCopyRequested)
            {
                await PostCopy(command, configured, toSend, total, bandwidth, observer, cancellationToken);
                return;
            }
            if (expectedDowntimeMs <= transfer.MaxDowntimeMs || round >= PreCopyModel.MaxRounds)
            {
                await Elapse(expectedDowntimeMs / 1000, cancellationToken);
                var stopAndCopyBytes = toSend + PreCopyModel.DeviceStateBytes;
                await observer.StoppedAndCopied(expectedDowntimeMs, stopAndCopyBytes);
                fleet.SwitchOver(command.MigrationId, command.VmId, command.TargetHost);
                await observer.SwitchedOver(command.TargetHost, total + stopAndCopyBytes);
                return;
            }
        }
    }

    /// <summary>
    /// Post-copy after Hines et al.: the CPU state moves, the VM resumes on the target, and each page not yet there is
    /// sent once, on demand or by pre-paging; a page of the working set the guest touches first faults once.
    /// </summary>
    async Task PostCopy(BeginTransfer command, SimVm vm, long remaining, long total, long bandwidth, ITransferObserver observer,
        CancellationToken cancellationToken)
    {
        var handoverMs = PreCopyModel.DeviceStateBytes * 1000.0 / bandwidth;
        await Elapse(handoverMs / 1000, cancellationToken);
        await observer.StoppedAndCopied(handoverMs, PreCopyModel.DeviceStateBytes);
        fleet.SwitchOver(command.MigrationId, command.VmId, command.TargetHost);
        await observer.PostCopyStarted(command.TargetHost, remaining);
        // From here the transfer cannot be cancelled: neither host alone holds the VM.
        await Elapse((double)remaining / bandwidth, CancellationToken.None);
        ThrowIfFaulted(MigrationSteps.PostCopy, command.VmId, null);
        var faults = Math.Min(remaining, vm.WorkingSetBytes) / SimVm.PageSize;
        await observer.PostCopyCompleted(command.TargetHost, total + PreCopyModel.DeviceStateBytes + remaining, faults);
    }

    public Task AdjustAsync(AdjustTransfer command, CancellationToken cancellationToken)
    {
        if (_transfers.TryGetValue(command.MigrationId, out var transfer))
        {
            if (command.MaxDowntimeMs is { } downtime)
                transfer.MaxDowntimeMs = downtime;
            if (command.MaxBandwidthMiBps is { } bandwidth)
                transfer.MaxBandwidthMiBps = bandwidth;
            if (command.ThrottlePercent is { } throttle)
                transfer.ThrottlePercent = Math.Clamp(throttle, 0, 99);
        }
        return Task.CompletedTask;
    }

    public Task SwitchToPostCopyAsync(SwitchToPostCopy command, CancellationToken cancellationToken)
    {
        if (!_transfers.TryGetValue(command.MigrationId, out var transfer))
            throw new HypervisorStepException($"No transfer of VM '{command.VmId}' runs on '{command.Host}' to switch to post-copy.", fleet.WhereIs(command.VmId));
        transfer.PostCopyRequested = true;
        return Task.CompletedTask;
    }

    public Task AbortAsync(AbortTransfer command, CancellationToken cancellationToken)
    {
        var runningOn = fleet.WhereIs(command.VmId);
        ThrowIfFaulted(MigrationSteps.AbortTransfer, command.VmId, runningOn);
        if (runningOn is not null && runningOn != command.Host)
            throw new HypervisorStepException($"VM '{command.VmId}' already runs on '{runningOn}': the transfer completed and cannot be undone.", runningOn);
        if (_transfers.TryGetValue(command.MigrationId, out var transfer))
            transfer.Cancellation.Cancel();
        return Task.CompletedTask;
    }

    public Task DestroyTargetAsync(DestroyTarget command, CancellationToken cancellationToken)
    {
        ThrowIfFaulted(MigrationSteps.DestroyTarget, command.VmId, fleet.WhereIs(command.VmId));
        fleet.RemoveTarget(command.MigrationId);
        return Task.CompletedTask;
    }

    public Task CleanupSourceAsync(CleanupSource command, CancellationToken cancellationToken)
    {
        ThrowIfFaulted(MigrationSteps.CleanupSource, command.VmId, fleet.WhereIs(command.VmId));
        return Task.CompletedTask;
    }

    public Task<string?> WhereIsAsync(string vmId, CancellationToken cancellationToken) => Task.FromResult(fleet.WhereIs(vmId));

    public Task<HostDescription> DescribeHostAsync(string host, CancellationToken cancellationToken)
    {
        var vms = fleet.VmsOn(host).Order(StringComparer.Ordinal).Select(id => new HostedVm(id, options.Value.Vm(id).MemoryBytes)).ToList();
        var capacity = options.Value.HostMemoryBytes;
        return Task.FromResult(new HostDescription(host, capacity, Math.Max(0, capacity - vms.Sum(vm => vm.MemoryBytes)), vms));
    }

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
