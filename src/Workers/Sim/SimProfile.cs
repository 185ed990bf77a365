namespace Orchestrator.Workers.Sim;

/// <summary>
/// How one hypervisor family runs a migration, as far as the simulator models it: pre-copy's rate limiting and stop
/// conditions, the switchover goal, a compressing transport, and whether the hypervisor slows the guest by itself.
/// The built-in ones are in <see cref="SimProfiles"/>.
/// </summary>
public sealed record SimProfile
{
    public string Name { get; init; } = SimProfiles.GenericName;

    /// <summary>Rate of the first pass (bytes/s on the wire); null: the link or policy cap from the start.</summary>
    public long? InitialRateBytesPerSecond { get; init; }

    /// <summary>
    /// Dynamic rate limiting (Clark et al.): each later pass runs at the previous pass's dirty rate plus this increment,
    /// and never slower than the previous pass plus it, up to the cap. It also decides when the link cannot outpace the
    /// guest: when the dirty rate plus the increment exceeds the cap. 0 with no initial rate: every pass at the cap.
    /// </summary>
    public long RateIncrementBytesPerSecond { get; init; }

    public int MaxRounds { get; init; } = 30;

    /// <summary>Pre-copy stops when fewer pages than this were dirtied during a pass.</summary>
    public long StopPages { get; init; } = 50;

    /// <summary>
    /// Pre-copy stops as soon as the rest can be sent within the downtime target (QEMU, ESXi, Hyper-V). Xen as Clark et
    /// al. describe it has no such target: it goes on until the threshold, the rate cap or the pass cap.
    /// </summary>
    public bool StopsWhenDowntimeFits { get; init; } = true;

    /// <summary>
    /// Pre-copy stops when the guest dirties memory faster than the capped link sends it (Xen, ESXi, Hyper-V). QEMU
    /// iterates on and leaves the decision to whoever drives it (the orchestrator's convergence policy), up to the pass cap.
    /// </summary>
    public bool StopsWhenGuestOutrunsLink { get; init; } = true;

    /// <summary>The hypervisor's own downtime goal; pre-copy stops once the rest fits the tighter of it and the policy's limit.</summary>
    public int? SwitchoverGoalMs { get; init; }

    /// <summary>Memory bytes per wire byte of a compressing transport (1: none).</summary>
    public double CompressionRatio { get; init; } = 1;

    /// <summary>How many memory bytes per second the compressor gets through (CPU-bound); null: unlimited.</summary>
    public long? CompressionBytesPerSecond { get; init; }

    /// <summary>CPU and device state sent while the VM is paused, on top of the remaining pages (256 KiB: the model's choice).</summary>
    public long DeviceStateBytes { get; init; } = 256 * 1024;

    /// <summary>The hypervisor throttles the vCPUs by itself when pre-copy falls behind (ESXi's stun during page send).</summary>
    public bool BuiltInAutoConverge { get; init; }

    public int ThrottleStartPercent { get; init; } = 20;

    public int ThrottleStepPercent { get; init; } = 10;

    public int ThrottleMaxPercent { get; init; } = 99;

    /// <summary>Auto-converge steps the throttle up after a pass that dirtied more than this share of what it sent.</summary>
    public double ThrottleTriggerRatio { get; init; } = 0.5;

    /// <summary>Memory bytes per second that a wire rate carries, through compression and its CPU limit.</summary>
    public double MemoryRate(long wireBytesPerSecond)
    {
        var rate = wireBytesPerSecond * Math.Max(1, CompressionRatio);
        return CompressionBytesPerSecond is { } limit && CompressionRatio > 1 ? Math.Min(rate, limit) : rate;
    }

    /// <summary>The next auto-converge throttle after <paramref name="current"/>: 20 %, then +10 % a step, at most 99 %.</summary>
    public int NextThrottle(int current) =>
        current <= 0 ? ThrottleStartPercent : Math.Min(ThrottleMaxPercent, current + ThrottleStepPercent);
}
