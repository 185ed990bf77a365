namespace Orchestrator.Workers.Sim;

/// <summary>
/// The built-in hypervisor profiles. Their characteristic figures come from the published descriptions; where a
/// vendor publishes none, the value is the model's own choice and says so.
/// </summary>
public static class SimProfiles
{
    public const string GenericName = "generic";
    public const string XenName = "xen";
    public const string EsxiName = "esxi";
    public const string HyperVName = "hyperv";
    const long Mbit = 1_000_000 / 8;

    /// <summary>
    /// QEMU-like: every pass at the cap until the rest fits the downtime limit or fewer than 50 pages are dirty. QEMU has
    /// no pass cap and does not give up on a guest that outruns the link: whoever drives it decides (the orchestrator's
    /// policy throttles, switches to post-copy or aborts). The cap of 1000 passes only bounds the model.
    /// </summary>
    public static SimProfile Generic { get; } = new() { Name = GenericName, StopsWhenGuestOutrunsLink = false, MaxRounds = 1000 };

    /// <summary>
    /// Xen as Clark et al. (NSDI 2005) describe it: the first pass at 50 Mbit/s, each later one at the measured dirty
    /// rate plus 50 Mbit/s, up to the cap; stop below 50 dirty pages, when the needed rate exceeds the cap, or at 30 passes
    /// (no downtime target). Xen has no auto-converge.
    /// </summary>
    public static SimProfile Xen { get; } = new()
    {
        Name = XenName,
        InitialRateBytesPerSecond = 50 * Mbit,
        RateIncrementBytesPerSecond = 50 * Mbit,
        StopsWhenDowntimeFits = false,
    };

    /// <summary>
    /// VMware ESXi vMotion: pre-copy at the full link until the rest fits its 500 ms switchover goal; when the guest
    /// outruns the link, ESXi slows it itself (stun during page send, modelled with the auto-converge schedule).
    /// The 30-pass cap is the model's choice.
    /// </summary>
    public static SimProfile Esxi { get; } = new()
    {
        Name = EsxiName,
        SwitchoverGoalMs = 500,
        BuiltInAutoConverge = true,
    };

    /// <summary>
    /// Hyper-V with its compression transport (the default since Windows Server 2012 R2): pages are compressed on the
    /// source's spare CPU, so the link carries more memory per second, up to what the compressor gets through. The ratio
    /// (2:1) and the compressor's throughput (1.5 GiB/s) are the model's choices; a configured profile can change them.
    /// </summary>
    public static SimProfile HyperV { get; } = new()
    {
        Name = HyperVName,
        CompressionRatio = 2,
        CompressionBytesPerSecond = 1536L * 1024 * 1024,
    };

    public static IReadOnlyList<SimProfile> BuiltIn { get; } = [Generic, Xen, Esxi, HyperV];

    public static IReadOnlyList<string> Names { get; } = [.. BuiltIn.Select(p => p.Name)];

    /// <summary>A built-in profile by name; a clear error for any other.</summary>
    public static SimProfile Get(string name) =>
        BuiltIn.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown sim profile '{name}': use one of {string.Join(", ", Names)}.", nameof(name));
}
