using System.Text.Json;
using Orchestrator.Workers.Qemu;

namespace Orchestrator.Workers.Tests;

/// <summary>What the driver reads out of QEMU's answers, on answers recorded from QEMU 7.2.</summary>
public sealed class When_qemu_answers_are_read
{
    [Fact]
    public void Should_read_the_guest_status_block_from_hmp_xp_output()
    {
        const string xp = "0000000000200000: 0x51e57a7e 0x00000bb3 0x00000018 0x0000bfa0\r\n"
            + "0000000000200010: 0x00000003 0x00000008 0x00000040 0x0000b7a0\r\n"
            + "0000000000200020: 0x00000011 0x00000600 0x00000ba1 0x00000000\r\n";

        var status = GuestStatus.Parse(xp);

        status.IsRunning.ShouldBeTrue();
        (status.UptimeMs, status.Pass, status.PagesDirtied).ShouldBe((2995u, 24u, 49056u));
        (status.IntegrityErrors, status.WorkingSetMiB, status.RateMiBps, status.FirstErrorPage).ShouldBe((3u, 8u, 64u, 17u));
    }

    [Fact]
    public void Should_read_the_disk_words_and_the_last_failed_ata_command()
    {
        const string xp = "0000000000200000: 0x51e57a7e 0x00000bb3 0x00000018 0x0000bfa0\r\n"
            + "0000000000200010: 0x00000000 0x00000008 0x00000040 0x0000b7a0\r\n"
            + "0000000000200020: 0xffffffff 0x00000600 0x00000ba1 0x00000000\r\n"
            + "0000000000200030: 0x00000007 0x00001a00 0x00000000 0xffffffff\r\n"
            + "0000000000200040: 0x00000400 0x00000001 0x000130d0\r\n";

        var status = GuestStatus.Parse(xp);

        (status.DiskPass, status.DiskSectorsWritten, status.DiskIntegrityErrors, status.FirstDiskErrorSector, status.DiskSectors)
            .ShouldBe((7u, 0x1a00u, 0u, uint.MaxValue, 1024u));
        (status.DiskIoErrors, status.LastDiskIoError).ShouldBe((1u, 0x130d0u), "one write (0x30) timed out (bit 16) with the drive busy (0xd0)");
    }

    [Fact]
    public void Should_refuse_output_that_is_not_a_status_block()
    {
        Should.Throw<FormatException>(() => GuestStatus.Parse("Cannot access memory\r\n"));
    }

    [Fact]
    public void Should_take_a_passes_numbers_from_query_migrate()
    {
        using var reply = JsonDocument.Parse("""
            {"expected-downtime": 75, "status": "active", "setup-time": 2, "total-time": 460,
             "ram": {"total": 67117056, "postcopy-requests": 0, "dirty-sync-count": 3, "multifd-bytes": 0, "pages-per-second": 4915,
                     "downtime-bytes": 0, "page-size": 4096, "remaining": 6561792, "postcopy-bytes": 0, "mbps": 349.58,
                     "transferred": 10844791, "dirty-sync-missed-zero-copy": 0, "precopy-bytes": 10844791, "duplicate": 14000,
                     "dirty-pages-rate": 1024, "skipped": 0, "normal-bytes": 10735616, "normal": 2621},
             "cpu-throttle-percentage": 20}
            """);

        var info = MigrationInfo.Parse(reply.RootElement);

        info.IsActive.ShouldBeTrue();
        info.IsPostCopy.ShouldBeFalse();
        (info.RamTransferred, info.RamRemaining, info.DirtySyncCount).ShouldBe((10844791L, 6561792L, 3L));
        info.DirtyRateBytesPerSecond.ShouldBe(1024L * 4096);
        info.BandwidthBytesPerSecond.ShouldBe(43_697_500L);
        (info.ExpectedDowntimeMs, info.ThrottlePercent).ShouldBe((75.0, 20));
    }

    [Fact]
    public void Should_read_a_failure_and_its_reason()
    {
        using var reply = JsonDocument.Parse("""{"status": "failed", "error-desc": "Unable to write to socket: Broken pipe"}""");

        var info = MigrationInfo.Parse(reply.RootElement);

        info.IsActive.ShouldBeFalse();
        info.Error.ShouldBe("Unable to write to socket: Broken pipe");
        info.TotalTimeMs.ShouldBe(0);
    }
}
