namespace Orchestrator.Workers.Sim;

/// <summary>
/// Iterative pre-copy as Clark et al. (NSDI 2005) describe it, one pass at a time so the limits may change between
/// passes: the first pass sends all memory, each later one the pages dirtied during the one before. The pass rate
/// follows the profile (Xen's dynamic rate limiting starts at 50 Mbit/s and rises each pass to the cap); pre-copy stops
/// below the page threshold, when the rest fits the downtime target, when the guest outruns the link, or at the pass cap.
/// </summary>
public sealed class PreCopyRun
{
    readonly SimVm _vm;
    readonly SimProfile _profile;
    readonly DirtyPageModel _dirty;
    long _hotToSend;
    long _coldToSend;
    long _lastRate;
    double _lastDirtyRate;

    public PreCopyRun(SimVm vm, SimProfile profile, SimRandom random)
    {
        if (vm.MemoryBytes < vm.PageSize || vm.PageSize <= 0)
            throw new ArgumentException($"VM '{vm.VmId}' needs a positive page size and at least one page of memory.", nameof(vm));
        _vm = vm;
        _profile = profile;
        Random = random;
        _dirty = new DirtyPageModel(vm, random);
        _hotToSend = vm.HotPages;
        _coldToSend = vm.ColdPages;
    }

    public SimRandom Random { get; }

    public int Round { get; private set; }

    public double ElapsedSeconds { get; private set; }

    /// <summary>Memory bytes sent by the passes so far.</summary>
    public long BytesSent { get; private set; }

    public long WireBytesSent { get; private set; }

    /// <summary>The throttle the hypervisor set by itself (auto-converge).</summary>
    public int OwnThrottlePercent { get; private set; }

    /// <summary>Pages dirtied during the last pass, not yet on the target: hot (working set) and cold.</summary>
    public (long Hot, long Cold) Missing => (_hotToSend, _coldToSend);

    public long RemainingBytes => (_hotToSend + _coldToSend) * _vm.PageSize;

    /// <summary>
    /// Runs the next pass under the limits in force now: <paramref name="capWireBytesPerSecond"/> (link or policy cap),
    /// the downtime limit, the throttle the orchestrator ordered, and whether the hypervisor may throttle by itself.
    /// </summary>
    public SimPass Next(long capWireBytesPerSecond, double maxDowntimeMs, int orderedThrottlePercent = 0, bool autoConverge = false)
    {
        if (capWireBytesPerSecond <= 0)
            throw new ArgumentOutOfRangeException(nameof(capWireBytesPerSecond), capWireBytesPerSecond, "The bandwidth must be positive.");
        Round++;
        var rate = PassRate(capWireBytesPerSecond);
        var sentBytes = (_hotToSend + _coldToSend) * _vm.PageSize;
        var memoryRate = _profile.MemoryRate(rate);
        var seconds = sentBytes / memoryRate;
        var throttle = Math.Max(Math.Clamp(orderedThrottlePercent, 0, 99), OwnThrottlePercent);
        var (hot, cold) = _dirty.Dirtied(ElapsedSeconds, seconds, throttle);
        ElapsedSeconds += seconds;
        var wireBytes = (long)(sentBytes / Math.Max(1, _profile.CompressionRatio));
        BytesSent += sentBytes;
        WireBytesSent += wireBytes;

        var dirtyBytes = (hot + cold) * _vm.PageSize;
        var dirtyRate = seconds > 0 ? dirtyBytes / seconds : 0;
        var capMemoryRate = _profile.MemoryRate(capWireBytesPerSecond);
        var expectedDowntimeMs = (dirtyBytes + _profile.DeviceStateBytes) * 1000.0 / capMemoryRate;
        var downtimeTarget = Math.Min(maxDowntimeMs, _profile.SwitchoverGoalMs ?? double.MaxValue);
        var increment = _profile.MemoryRate(_profile.RateIncrementBytesPerSecond);
        var stop =
            hot + cold < _profile.StopPages ? PreCopyStop.BelowThreshold
            : _profile.StopsWhenDowntimeFits && expectedDowntimeMs <= downtimeTarget ? PreCopyStop.DowntimeFits
            : _profile.StopsWhenGuestOutrunsLink && dirtyRate + increment > capMemoryRate ? PreCopyStop.DirtyRateExceedsTransferRate
            : Round >= _profile.MaxRounds ? PreCopyStop.RoundCap
            : PreCopyStop.None;

        // Auto-converge (QEMU's rule, ESXi's stun during page send): a pass that dirtied more than half of what it sent
        // slows the guest one step more for the next pass.
        if (stop == PreCopyStop.None && (autoConverge || _profile.BuiltInAutoConverge) && dirtyBytes > _profile.ThrottleTriggerRatio * sentBytes)
            OwnThrottlePercent = _profile.NextThrottle(OwnThrottlePercent);

        _hotToSend = hot;
        _coldToSend = cold;
        _lastRate = rate;
        _lastDirtyRate = dirtyRate / Math.Max(1, _profile.CompressionRatio);
        return new SimPass(Round, sentBytes, dirtyBytes, seconds, expectedDowntimeMs, stop, rate, (long)dirtyRate, throttle, wireBytes);
    }

    long PassRate(long cap)
    {
        if (Round == 1)
            return Math.Min(cap, _profile.InitialRateBytesPerSecond ?? cap);
        if (_profile.InitialRateBytesPerSecond is null && _profile.RateIncrementBytesPerSecond == 0)
            return cap;
        var increment = _profile.RateIncrementBytesPerSecond;
        return Math.Min(cap, Math.Max(_lastRate + increment, (long)_lastDirtyRate + increment));
    }
}
