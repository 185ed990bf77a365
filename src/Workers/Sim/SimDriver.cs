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
public sealed class SimDriver(ISimFleet fleet, IOptions<SimOptions> options) : IHypervisorDriver
{
    const long MiB = 1024 * 1024;
    readonly ConcurrentDictionary<Guid, SimTransfer> _transfers = new();

    public string Kind => HypervisorKinds.Sim;

    SimOptions Options => options.Value;

    public async Task<PreflightResult> PreflightAsync(CheckMigration command, CancellationToken cancellationToken)
    {
        await SilenceIfInjected(MigrationSteps.Preflight, command.VmId, command.SourceHost, cancellationToken);
        ThrowIfFaulted(MigrationSteps.Preflight, command.VmId, await fleet.WhereIsAsync(command.VmId, cancellationToken));
        var vm = Options.Vm(command.VmId);
        if (command.Hypervisor != Kind)
            return Verdict($"This worker serves '{Kind}' hosts; the migration asks for '{command.Hypervisor}'.", vm, null);
        foreach (var host in new[] { command.SourceHost, command.TargetHost })
        {
            if (await fleet.IsDownAsync(host, cancellationToken))
                return Verdict($"Host '{host}' is down.", vm, null);
        }
        var runningOn = await fleet.RunningOnOrPlaceAsync(command.VmId, command.SourceHost, cancellationToken);
        if (runningOn != command.SourceHost)
            return Verdict($"VM '{command.VmId}' runs on '{runningOn}', not on the source '{command.SourceHost}'.", vm, null);
        // The memory promised to migrations already on their way to the target counts as taken.
        if (NoRoom(command.TargetHost, vm, (await fleet.LoadAsync(command.TargetHost, cancellationToken)).Without(command.MigrationId)) is { } full)
            return Verdict(full, vm, null);

        var profile = Options.ProfileFor(vm, command.SourceHost);
        var bandwidth = command.MaxBandwidthMiBps * MiB;
        // The check measures the guest as it runs now: a burst still to come is not known to it.
        vm = vm with { BurstAfterSeconds = null };
        var seed = SimRandom.Seed(vm.EffectiveSeed, command.MigrationId);
        var predicted = PreCopyModel.Simulate(vm, profile, bandwidth, command.MaxDowntimeMs, seed).DowntimeMs;
        if (predicted <= command.MaxDowntimeMs || command.AllowPostCopy)
            return Verdict(null, vm, predicted);
        if (command.AllowAutoConverge)
        {
            var throttled = PreCopyModel.Simulate(vm, profile, bandwidth, command.MaxDowntimeMs, seed, autoConverge: true).DowntimeMs;
            if (throttled <= command.MaxDowntimeMs)
                return Verdict(null, vm, throttled);
            // At the deepest throttle the guest dirties a hundredth of its memory as fast.
            var deepest = PreCopyModel.Simulate(vm with { DirtyRateBytesPerSecond = vm.DirtyRateBytesPerSecond / 100 },
                profile, bandwidth, command.MaxDowntimeMs, seed).DowntimeMs;
            if (deepest <= command.MaxDowntimeMs)
                return Verdict(null, vm, deepest);
        }
        return Verdict($"Predicted downtime {predicted:0} ms exceeds the limit {command.MaxDowntimeMs} ms: VM '{command.VmId}' dirties "
            + $"{vm.DirtyRateBytesPerSecond / MiB} MiB/s of a {vm.WorkingSetBytes / MiB} MiB working set against {command.MaxBandwidthMiBps} MiB/s. "
            + "Allow post-copy or auto-converge, give it more bandwidth, or raise the downtime limit.", vm, predicted);

        static PreflightResult Verdict(string? problem, SimVm vm, double? predicted) => new(problem, vm.MemoryBytes, predicted);
    }

    public async Task<TargetPreparation> PrepareTargetAsync(PrepareTarget command, CancellationToken cancellationToken)
    {
        await SilenceIfInjected(MigrationSteps.PrepareTarget, command.VmId, command.TargetHost, cancellationToken);
        await ThrowIfDown(command.TargetHost, command.VmId, cancellationToken);
        var runningOn = await fleet.RunningOnOrPlaceAsync(command.VmId, command.SourceHost, cancellationToken);
        ThrowIfFaulted(MigrationSteps.PrepareTarget, command.VmId, runningOn);
        // The destination promises the VM's memory; a target another migration filled since the pre-flight refuses.
        var vm = Options.Vm(command.VmId);
        if (await fleet.PrepareTargetAsync(command.MigrationId, command.VmId, command.TargetHost, load => NoRoom(command.TargetHost, vm, load),
                cancellationToken) is { } full)
            throw new HypervisorStepException(full, runningOn);
        // The model moves no bytes over any network: there is nothing to listen on.
        return TargetPreparation.NoUri;
    }

    public async Task MigrateAsync(BeginTransfer command, ITransferObserver observer, CancellationToken cancellationToken)
    {
        await SilenceIfInjected(MigrationSteps.Transfer, command.VmId, command.SourceHost, cancellationToken);
        await ThrowIfDown(command.SourceHost, command.VmId, cancellationToken);
        var runningOn = await fleet.RunningOnOrPlaceAsync(command.VmId, command.SourceHost, cancellationToken);
        if (runningOn == command.TargetHost)
        {
            // A redelivered BeginTransfer after the switchover: report the outcome again, move nothing.
            await observer.SwitchedOver(runningOn, 0);
            return;
        }
        await ThrowIfDown(command.TargetHost, command.VmId, cancellationToken);
        if (runningOn != command.SourceHost)
            throw new HypervisorStepException($"VM '{command.VmId}' runs on '{runningOn}', not on the source '{command.SourceHost}'.", runningOn);
        if (!await fleet.IsTargetPreparedAsync(command.MigrationId, command.TargetHost, cancellationToken))
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
    /// Pre-copy passes under the transfer's current limits until the profile's stop conditions hold, or post-copy is
    /// asked for (the <c>postcopy</c> strategy asks right after the first pass); then stop-and-copy or post-copy.
    /// </summary>
    async Task Transfer(BeginTransfer command, SimTransfer transfer, ITransferObserver observer, CancellationToken cancellationToken)
    {
        var vm = Options.Vm(command.VmId);
        var profile = Options.ProfileFor(vm, command.SourceHost);
        var run = new PreCopyRun(vm, profile, new SimRandom(SimRandom.Seed(vm.EffectiveSeed, command.MigrationId)));
        var pass = await Replay(command, transfer, profile, run, cancellationToken);
        while (true)
        {
            if (pass is null)
            {
                pass = NextPass(command, transfer, profile, run);
                await Pass(command, pass, cancellationToken);
                await observer.RoundCompleted(new PreCopyPass(pass.Round, pass.BytesSent, pass.BytesRemaining, pass.DirtyRateBytesPerSecond,
                    (long)profile.MemoryRate(pass.WireBytesPerSecond), pass.ExpectedDowntimeMs, pass.ThrottlePercent));
                await fleet.RecordPassAsync(command.MigrationId, pass.Round, cancellationToken);
                await SilenceIfInjected(MigrationSteps.Transfer, command.VmId, command.SourceHost, cancellationToken, pass.Round);
            }

            if (command.Strategy == MigrationStrategies.PostCopy || transfer.PostCopyRequested)
            {
                await PostCopy(command, vm, profile, run, transfer.MaxBandwidthMiBps * MiB, observer, cancellationToken);
                return;
            }
            if (pass.IsLast)
            {
                await Elapse(pass.ExpectedDowntimeMs / 1000, cancellationToken);
                await ThrowIfDown(command.SourceHost, command.VmId, cancellationToken);
                await ThrowIfDown(command.TargetHost, command.VmId, cancellationToken);
                var stopAndCopyBytes = pass.BytesRemaining + profile.DeviceStateBytes;
                await observer.StoppedAndCopied(pass.ExpectedDowntimeMs, stopAndCopyBytes);
                await fleet.SwitchOverAsync(command.MigrationId, command.VmId, command.TargetHost, cancellationToken);
                await observer.SwitchedOver(command.TargetHost, run.BytesSent + stopAndCopyBytes);
                return;
            }
            pass = null;
        }
    }

    static SimPass NextPass(BeginTransfer command, SimTransfer transfer, SimProfile profile, PreCopyRun run) =>
        run.Next(transfer.MaxBandwidthMiBps * MiB, transfer.MaxDowntimeMs, transfer.ThrottlePercent, command.AllowAutoConverge && profile.BuiltInAutoConverge);

    /// <summary>
    /// A transfer that starts again (a redelivered command, a restarted worker) resumes after the passes its destination
    /// recorded: the run is deterministic, so they are replayed here, unreported and in no time, under the command's limits
    /// (a change made to the limits of the transfer that broke off is not known here). Returns the last of them; null when
    /// none was sent.
    /// </summary>
    async Task<SimPass?> Replay(BeginTransfer command, SimTransfer transfer, SimProfile profile, PreCopyRun run, CancellationToken cancellationToken)
    {
        var sent = await fleet.PassesSentAsync(command.MigrationId, cancellationToken);
        SimPass? pass = null;
        while (run.Round < sent && pass is not { IsLast: true })
            pass = NextPass(command, transfer, profile, run);
        return pass;
    }

    /// <summary>One pass in (simulated or real) time, with the host deaths and link drops injected into it.</summary>
    async Task Pass(BeginTransfer command, SimPass pass, CancellationToken cancellationToken)
    {
        var crash = Options.HostCrashes.FirstOrDefault(c => c.AtRound == pass.Round && Touches(c.Host, c.VmId, command));
        var drop = Options.LinkDrops.FirstOrDefault(d => !d.DuringPostCopy && d.AtRound == pass.Round && Touches(d.Host, d.VmId, command));
        if (crash is null && drop is null)
        {
            await Elapse(pass.Seconds, cancellationToken);
            await ThrowIfDown(command.SourceHost, command.VmId, cancellationToken);
            await ThrowIfDown(command.TargetHost, command.VmId, cancellationToken);
            ThrowIfFaulted(MigrationSteps.Transfer, command.VmId, command.SourceHost);
            return;
        }
        await Elapse(pass.Seconds / 2, cancellationToken);
        if (crash is not null)
            await fleet.KillHostAsync(crash.Host, cancellationToken);
        await ThrowIfDown(command.SourceHost, command.VmId, cancellationToken);
        await ThrowIfDown(command.TargetHost, command.VmId, cancellationToken);
        throw new HypervisorStepException($"Injected fault: the link from '{command.SourceHost}' to '{command.TargetHost}' dropped during pass {pass.Round} "
            + $"of VM '{command.VmId}'.", await fleet.WhereIsAsync(command.VmId, cancellationToken));
    }

    static bool Touches(string? host, string? vmId, BeginTransfer command) =>
        (vmId is null || vmId == command.VmId) && (host is null || host == command.SourceHost || host == command.TargetHost);

    /// <summary>
    /// Post-copy after Hines et al.: the CPU state moves, the VM resumes on the target, and each page not yet there is
    /// sent once, by pre-paging or on the guest's fault; how many faults follows from its access pattern.
    /// </summary>
    async Task PostCopy(BeginTransfer command, SimVm vm, SimProfile profile, PreCopyRun run, long bandwidth, ITransferObserver observer,
        CancellationToken cancellationToken)
    {
        var rate = profile.MemoryRate(bandwidth);
        var handoverMs = profile.DeviceStateBytes * 1000.0 / rate;
        await Elapse(handoverMs / 1000, cancellationToken);
        await observer.StoppedAndCopied(handoverMs, profile.DeviceStateBytes);
        await fleet.SwitchOverAsync(command.MigrationId, command.VmId, command.TargetHost, cancellationToken);
        await observer.PostCopyStarted(command.TargetHost, run.RemainingBytes);
        // From here the transfer cannot be cancelled: neither host alone holds the VM.
        var (hot, cold) = run.Missing;
        var pages = PostCopyModel.Run(vm, hot, cold, rate, run.Random);
        var drop = Options.LinkDrops.FirstOrDefault(d => d.DuringPostCopy && Touches(d.Host, d.VmId, command));
        await Elapse(drop is null ? pages.Seconds : pages.Seconds / 2, CancellationToken.None);
        if (drop is not null || await fleet.IsDownAsync(command.SourceHost, CancellationToken.None) || await fleet.IsDownAsync(command.TargetHost, CancellationToken.None))
        {
            // Half the pages are on each side: the VM cannot run anywhere.
            await fleet.LoseAsync(command.VmId, CancellationToken.None);
            throw new HypervisorStepException($"Post-copy of VM '{command.VmId}' broke off: "
                + (drop is null ? "a host died" : $"the link from '{command.SourceHost}' to '{command.TargetHost}' dropped") + ".", null);
        }
        ThrowIfFaulted(MigrationSteps.PostCopy, command.VmId, null);
        await observer.PostCopyCompleted(command.TargetHost, run.BytesSent + profile.DeviceStateBytes + pages.Bytes, pages.PageFaults);
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

    public async Task SwitchToPostCopyAsync(SwitchToPostCopy command, CancellationToken cancellationToken)
    {
        if (!_transfers.TryGetValue(command.MigrationId, out var transfer))
            throw new HypervisorStepException($"No transfer of VM '{command.VmId}' runs on '{command.Host}' to switch to post-copy.",
                await fleet.WhereIsAsync(command.VmId, cancellationToken));
        transfer.PostCopyRequested = true;
    }

    public async Task AbortAsync(AbortTransfer command, CancellationToken cancellationToken)
    {
        await SilenceIfInjected(MigrationSteps.AbortTransfer, command.VmId, command.Host, cancellationToken);
        var runningOn = await fleet.WhereIsAsync(command.VmId, cancellationToken);
        await ThrowIfDown(command.Host, command.VmId, cancellationToken);
        ThrowIfFaulted(MigrationSteps.AbortTransfer, command.VmId, runningOn);
        if (runningOn is not null && runningOn != command.Host)
            throw new HypervisorStepException($"VM '{command.VmId}' already runs on '{runningOn}': the transfer completed and cannot be undone.", runningOn);
        if (_transfers.TryGetValue(command.MigrationId, out var transfer))
            transfer.Cancellation.Cancel();
    }

    public async Task DestroyTargetAsync(DestroyTarget command, CancellationToken cancellationToken)
    {
        await SilenceIfInjected(MigrationSteps.DestroyTarget, command.VmId, command.Host, cancellationToken);
        await ThrowIfDown(command.Host, command.VmId, cancellationToken);
        ThrowIfFaulted(MigrationSteps.DestroyTarget, command.VmId, await fleet.WhereIsAsync(command.VmId, cancellationToken));
        await fleet.RemoveTargetAsync(command.MigrationId, cancellationToken);
    }

    public async Task CleanupSourceAsync(CleanupSource command, CancellationToken cancellationToken)
    {
        await SilenceIfInjected(MigrationSteps.CleanupSource, command.VmId, command.Host, cancellationToken);
        await ThrowIfDown(command.Host, command.VmId, cancellationToken);
        ThrowIfFaulted(MigrationSteps.CleanupSource, command.VmId, await fleet.WhereIsAsync(command.VmId, cancellationToken));
    }

    public Task<string?> WhereIsAsync(string vmId, CancellationToken cancellationToken) => fleet.WhereIsAsync(vmId, cancellationToken);

    /// <summary>A dead host holds nothing: its VMs went with it.</summary>
    public async Task<VmInspection> InspectAsync(string vmId, string host, CancellationToken cancellationToken)
    {
        var runningOn = await fleet.WhereIsAsync(vmId, cancellationToken);
        return await fleet.IsDownAsync(host, cancellationToken) ? new VmInspection(VmPresences.Absent, $"sim host {host} is down: nothing runs there")
            : runningOn == host ? new VmInspection(VmPresences.Running, $"sim reports VM '{vmId}' running on {host}")
            : new VmInspection(VmPresences.Absent, runningOn is null
                ? $"sim reports VM '{vmId}' running on no host"
                : $"sim reports VM '{vmId}' running on {runningOn}, not on {host}");
    }

    /// <summary>The host's VMs; its free memory leaves out what it has promised to inbound migrations.</summary>
    public async Task<HostDescription> DescribeHostAsync(string host, CancellationToken cancellationToken)
    {
        if (await fleet.IsDownAsync(host, cancellationToken))
            throw new HypervisorStepException($"Host '{host}' is down.", null);
        var load = await fleet.LoadAsync(host, cancellationToken);
        var vms = load.Resident.Order(StringComparer.Ordinal).Select(id => new HostedVm(id, MemoryOf(id))).ToList();
        var capacity = Options.HostMemoryBytes;
        return new HostDescription(host, capacity, Math.Max(0, capacity - load.CommittedBytes(MemoryOf)), vms);
    }

    long MemoryOf(string vmId) => Options.Vm(vmId).MemoryBytes;

    /// <summary>Why <paramref name="host"/>, holding <paramref name="load"/>, has no room for <paramref name="vm"/>; null when it has.</summary>
    string? NoRoom(string host, SimVm vm, SimHostLoad load)
    {
        var committed = load.CommittedBytes(MemoryOf);
        if (committed + vm.MemoryBytes <= Options.HostMemoryBytes)
            return null;
        var promised = load.Inbound.Count == 0 ? string.Empty
            : $" ({GiB(load.InboundBytes(MemoryOf))} GiB of its memory promised to {load.Inbound.Count} inbound migration{(load.Inbound.Count == 1 ? "" : "s")})";
        return $"Target '{host}' has {GiB(Options.HostMemoryBytes - committed)} GiB free{promised}; VM '{vm.VmId}' needs {GiB(vm.MemoryBytes)} GiB.";

        static string GiB(long bytes) => (bytes / (double)(1L << 30)).ToString("0.#", System.Globalization.CultureInfo.InvariantCulture);
    }

    Task Elapse(double simulatedSeconds, CancellationToken cancellationToken)
    {
        var factor = Options.RealTimeFactor;
        return factor <= 0
            ? Task.CompletedTask
            : Task.Delay(TimeSpan.FromSeconds(simulatedSeconds * factor), cancellationToken);
    }

    void ThrowIfFaulted(string step, string vmId, string? runningOn)
    {
        if (Options.Faults.Contains(new SimFault(step, vmId)))
            throw new HypervisorStepException($"Injected fault: {step} fails for VM '{vmId}'.", runningOn);
    }

    async Task ThrowIfDown(string host, string vmId, CancellationToken cancellationToken)
    {
        if (await fleet.IsDownAsync(host, cancellationToken))
            throw new HypervisorStepException($"Host '{host}' is down.", await fleet.WhereIsAsync(vmId, cancellationToken));
    }

    /// <summary>An injected unresponsive worker: the command is taken and never answered (until the worker stops).</summary>
    async Task SilenceIfInjected(string step, string vmId, string host, CancellationToken cancellationToken, int afterRound = 0)
    {
        if (Options.Silences.Any(s => (s.Step is null || s.Step == step) && (s.VmId is null || s.VmId == vmId) && (s.Host is null || s.Host == host)
            && s.AfterRound == afterRound))
            await Task.Delay(Timeout.Infinite, cancellationToken);
    }
}
