namespace Orchestrator.Workers.Qemu;

/// <summary>How the qemu driver runs QEMU on this machine (configuration section <c>Qemu</c>).</summary>
public sealed class QemuOptions
{
    public const string Section = "Qemu";

    /// <summary>
    /// Where each host served by this worker keeps its VMs: <c>&lt;RuntimeRoot&gt;/&lt;host&gt;/&lt;vmId&gt;/</c> holds the VM's
    /// definition (<c>vm.json</c>), its QMP sockets, its pid file and serial log. Keep it short: unix socket paths are
    /// limited to 107 bytes.
    /// </summary>
    public string RuntimeRoot { get; set; } = Path.Combine(Path.GetTempPath(), "orchestrator-qemu");

    /// <summary>The QEMU executable.</summary>
    public string Binary { get; set; } = "qemu-system-x86_64";

    /// <summary>How long one QMP command may take before it counts as unanswered.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often a running migration is queried between QEMU's own events.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How many times a post-copy whose link broke (both sides <c>postcopy-paused</c>) is resumed on a new connection
    /// (<c>migrate-recover</c> on the destination, <c>migrate resume</c> on the source) before the VM is reported lost.
    /// </summary>
    public int PostCopyRecoveryAttempts { get; set; } = 3;

    /// <summary>How long, from the moment the break is seen, those attempts may take in all.</summary>
    public TimeSpan PostCopyRecoveryTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The IP address this host's destinations listen on for the migration stream. It is also the address in the URI the
    /// source host's worker is told to connect to (<c>tcp:ADDRESS:PORT</c>), so it must be one the source hosts can
    /// reach: the loopback default serves only source and target on one machine. Not a wildcard (0.0.0.0, ::) or a name.
    /// </summary>
    public string ListenAddress { get; set; } = "127.0.0.1";

    /// <summary>
    /// The memory each served host offers its VMs, in MiB, for a drain's placement: free is this minus the memory of every
    /// live QEMU on the host. Null: the machine's own figures (<c>/proc/meminfo</c> MemTotal, and MemAvailable as free).
    /// </summary>
    public long? HostMemoryMiB { get; set; }

    /// <summary>
    /// The X.509 credentials of the encrypted migration stream (policy <c>requireEncryption</c>), laid out as QEMU's
    /// <c>tls-creds-x509</c> reads a directory: <c>ca-cert.pem</c>, <c>server-cert.pem</c> and <c>server-key.pem</c> (a
    /// destination here, <c>endpoint=server</c>), <c>client-cert.pem</c> and <c>client-key.pem</c> (a source here,
    /// <c>endpoint=client</c>). A worker serving one host (one per machine) points it at that host's directory; a worker
    /// serving several hosts may give each a sub-directory named after it (<c>&lt;TlsDirectory&gt;/&lt;host&gt;/</c>),
    /// which then wins over the files at the top. Null: this worker's hosts have no credentials, and an encrypted
    /// migration from or to them is refused with that reason. <c>infra/tls.sh</c> makes a development CA and credentials.
    /// </summary>
    public string? TlsDirectory { get; set; }
}
