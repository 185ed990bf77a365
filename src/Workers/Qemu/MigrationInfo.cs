using System.Text.Json;

namespace Orchestrator.Workers.Qemu;

/// <summary>
/// QEMU's answer to <c>query-migrate</c>, the members the driver reports. All numbers come from the source; a
/// destination only says its status.
/// </summary>
public sealed record MigrationInfo(
    string Status,
    long TotalTimeMs,
    double DowntimeMs,
    double ExpectedDowntimeMs,
    long RamTransferred,
    long RamRemaining,
    long RamTotal,
    long DirtyPagesRate,
    long PageSize,
    double Mbps,
    long DirtySyncCount,
    long PostCopyRequests,
    int ThrottlePercent,
    string? Error)
{
    public bool IsActive => Status is "setup" or "active" or "pre-switchover" or "device" or "wait-unplug" or "cancelling";

    public bool IsPostCopy => Status is "postcopy-active" or "postcopy-paused" or "postcopy-recover";

    public long DirtyRateBytesPerSecond => DirtyPagesRate * PageSize;

    public long BandwidthBytesPerSecond => (long)(Mbps * 1_000_000 / 8);

    /// <summary>
    /// QEMU 7.2 may first answer <c>completed</c> with a total time of 0: asks again, every 2 ms for at most 0.5 s (the
    /// migration is over and its figures are a moment away), until the numbers are in.
    /// </summary>
    public static async Task<MigrationInfo> FinalAsync(QmpClient qmp, MigrationInfo completed, TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
    {
        var info = completed;
        for (var attempt = 0; info.TotalTimeMs == 0 && attempt < 250; attempt++)
        {
            await Task.Delay(2, cancellationToken);
            info = Parse(await qmp.ExecuteAsync("query-migrate", null, timeout, cancellationToken));
        }
        return info;
    }

    public static MigrationInfo Parse(JsonElement reply)
    {
        var ram = reply.TryGetProperty("ram", out var r) ? r : default;
        return new MigrationInfo(
            reply.TryGetProperty("status", out var status) ? status.GetString() ?? "none" : "none",
            Long(reply, "total-time"),
            Long(reply, "downtime"),
            Long(reply, "expected-downtime"),
            Long(ram, "transferred"),
            Long(ram, "remaining"),
            Long(ram, "total"),
            Long(ram, "dirty-pages-rate"),
            Long(ram, "page-size") is > 0 and var size ? size : 4096,
            ram.ValueKind == JsonValueKind.Object && ram.TryGetProperty("mbps", out var mbps) ? mbps.GetDouble() : 0,
            Long(ram, "dirty-sync-count"),
            Long(ram, "postcopy-requests"),
            (int)Long(reply, "cpu-throttle-percentage"),
            reply.TryGetProperty("error-desc", out var error) ? error.GetString() : null);
    }

    static long Long(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.TryGetInt64(out var number) ? number : 0;
}
