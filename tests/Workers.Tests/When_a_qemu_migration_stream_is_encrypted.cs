using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.TestSupport.Qemu;
using Orchestrator.Workers.Drivers;
using Orchestrator.Workers.Qemu;

namespace Orchestrator.Workers.Tests;

/// <summary>
/// TLS on the migration stream, on real QEMU: a relay in the test sits between the two QEMUs and records every byte the
/// source sends. The guest writes "SECRET-GUEST-MEM" into every page of its working set: a plain stream shows it
/// thousands of times, an encrypted one never, and opens each connection with a TLS handshake. Credentials come from
/// infra/tls.sh; a destination whose certificate another CA signed, or that names another host, is refused and the VM
/// keeps running on the source.
/// </summary>
[Trait("Category", "Qemu")]
public sealed class When_a_qemu_migration_stream_is_encrypted : IAsyncLifetime
{
    const string Vm = "vm-tls";
    const string A = "host-a";
    const string B = "host-b";
    readonly QemuLab _lab = new();
    QemuDriver Driver => new(_lab.Hosts, Options.Create(_lab.Options), NullLogger<QemuDriver>.Instance);

    public ValueTask InitializeAsync()
    {
        _lab.MakeTls(A);
        _lab.MakeTls(B);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await _lab.DisposeAsync();

    static PrepareTarget Prepare(Guid id, string target, bool tls, int multifd = 0) =>
        new(id, 1, Vm, A, target, HypervisorKinds.Qemu, multifd, RequireEncryption: tls);

    static BeginTransfer Transfer(Guid id, string target, string uri, bool tls, string strategy = MigrationStrategies.PreCopy,
        int bandwidthMiBps = 64, int multifd = 0) =>
        new(id, 1, Vm, A, target, strategy, 300, bandwidthMiBps, AllowPostCopy: strategy == MigrationStrategies.PostCopy,
            MultifdChannels: multifd, IncomingUri: uri, RequireEncryption: tls);

    /// <summary>Prepares <paramref name="target"/>, puts a recorder in front of it and migrates there through it.</summary>
    async Task<(StreamRecorder Recording, Task Transfer)> MigrateRecorded(string target, bool tls, RecordingObserver observer,
        string strategy = MigrationStrategies.PreCopy, int bandwidthMiBps = 64, int multifd = 0)
    {
        var id = Guid.NewGuid();
        var prepared = await Driver.PrepareTargetAsync(Prepare(id, target, tls, multifd), default);
        var recorder = new StreamRecorder(prepared.IncomingUri!);
        return (recorder, Driver.MigrateAsync(Transfer(id, target, recorder.Uri, tls, strategy, bandwidthMiBps, multifd), observer, default));
    }

    [Fact]
    public async Task Should_carry_the_guests_memory_only_encrypted_and_arrive_intact()
    {
        await _lab.StartVm(A, Vm, mib: 8, rate: 16);
        var observer = new RecordingObserver();
        var (recording, transfer) = await MigrateRecorded(B, tls: true, observer);
        await using (recording)
            await transfer;

        observer.RunningOn.ShouldBe(B);
        (await _lab.RunsOn(B, Vm)).IntegrityErrors.ShouldBe(0u);
        recording.BytesFromSource.ShouldBeGreaterThan(8L << 20, "the working set went through the relay");
        recording.Occurrences(StreamRecorder.GuestMarker).ShouldBe(0, "the guest's secret is not readable on the link");
        recording.TlsHandshakes.ShouldBe(recording.Connections.Count);
        recording.PlainQemuStreams.ShouldBe(0);
        await ShouldHaveUsedTls(A, B);
    }

    [Fact]
    public async Task Should_show_the_guests_memory_on_a_plain_stream_when_encryption_is_not_required()
    {
        await _lab.StartVm(A, Vm, mib: 8, rate: 16);
        var observer = new RecordingObserver();
        var (recording, transfer) = await MigrateRecorded(B, tls: false, observer);
        await using (recording)
            await transfer;

        observer.RunningOn.ShouldBe(B);
        (await _lab.RunsOn(B, Vm)).IntegrityErrors.ShouldBe(0u);
        // 8 MiB of working set: 2048 pages, each carrying the marker at least once.
        recording.Occurrences(StreamRecorder.GuestMarker).ShouldBeGreaterThanOrEqualTo(2048);
        recording.PlainQemuStreams.ShouldBe(1);
        recording.TlsHandshakes.ShouldBe(0);
    }

    [Fact]
    public async Task Should_refuse_a_destination_whose_certificate_another_ca_signed_and_keep_the_vm_on_the_source()
    {
        const string rogue = "host-rogue";
        _lab.MakeTls(rogue, caDirectory: _lab.CaDirectory + "-other");
        (await ShouldBeRefusedAndKeepRunning(rogue)).Message.ShouldContain("The certificate hasn't got a known issuer");
    }

    [Fact]
    public async Task Should_refuse_a_destination_whose_certificate_names_another_host_and_keep_the_vm_on_the_source()
    {
        const string misnamed = "host-misnamed";
        _lab.MakeTls(misnamed, names: "elsewhere");
        var refused = await ShouldBeRefusedAndKeepRunning(misnamed);
        refused.Message.ShouldContain("does not match the hostname host-misnamed");
    }

    async Task<HypervisorStepException> ShouldBeRefusedAndKeepRunning(string target)
    {
        await _lab.StartVm(A, Vm, mib: 8, rate: 16);
        var (recording, transfer) = await MigrateRecorded(target, tls: true, new RecordingObserver());
        HypervisorStepException refused;
        await using (recording)
            refused = await Should.ThrowAsync<HypervisorStepException>(() => transfer);

        TestContext.Current.TestOutputHelper?.WriteLine(refused.Message);
        refused.Message.ShouldContain("failed");
        refused.VmRunningOn.ShouldBe(A);
        recording.Occurrences(StreamRecorder.GuestMarker).ShouldBe(0);
        (await _lab.RunState(A, Vm)).ShouldBe("running");
        (await _lab.RunsOn(A, Vm)).IntegrityErrors.ShouldBe(0u);
        (await Driver.WhereIsAsync(Vm, default)).ShouldBe(A);
        return refused;
    }

    [Fact]
    public async Task Should_refuse_at_preflight_and_prepare_a_host_without_credentials_naming_what_is_missing()
    {
        await _lab.StartVm(A, Vm, mib: 8, rate: 16);
        var id = Guid.NewGuid();
        File.Delete(Path.Combine(_lab.TlsDirectory, A, "client-key.pem"));
        File.Delete(Path.Combine(_lab.TlsDirectory, B, "server-key.pem"));
        var check = new CheckMigration(id, 1, Vm, A, B, HypervisorKinds.Qemu, 300, 64, false, false, RequireEncryption: true);

        // The source's worker checks its own credentials (and the target's, when it holds that host too)...
        var preflight = await Driver.PreflightAsync(check, default);
        preflight.Passed.ShouldBeFalse();
        preflight.Problem.ShouldNotBeNull().ShouldContain($"client-key.pem missing in {Path.Combine(_lab.TlsDirectory, A)}");
        // ...the target's worker its own, before it starts anything.
        var prepare = await Should.ThrowAsync<HypervisorStepException>(() => Driver.PrepareTargetAsync(Prepare(id, B, tls: true), default));
        prepare.Message.ShouldContain("server-key.pem missing");
        prepare.VmRunningOn.ShouldBe(A);
        _lab.Hosts.IsAlive(B, Vm).ShouldBeFalse("nothing was started on the target");

        _lab.Options.TlsDirectory = null;
        (await Driver.PreflightAsync(check, default)).Problem.ShouldNotBeNull().ShouldContain("has no TLS credentials");
        // Without the policy's requirement, the same hosts pass: plain TCP, as asked.
        (await Driver.PreflightAsync(check with { RequireEncryption = false }, default)).Passed.ShouldBeTrue();
    }

    [Fact]
    public async Task Should_move_in_post_copy_over_tls_with_the_guest_intact()
    {
        await _lab.StartVm(A, Vm, mib: 32, rate: 256);
        var observer = new RecordingObserver();
        var (recording, transfer) = await MigrateRecorded(B, tls: true, observer, MigrationStrategies.PostCopy, bandwidthMiBps: 16);
        await using (recording)
            await transfer;

        observer.PostCopyStartedOn.ShouldBe(B);
        (await _lab.RunsOn(B, Vm)).IntegrityErrors.ShouldBe(0u);
        recording.Occurrences(StreamRecorder.GuestMarker).ShouldBe(0);
        recording.TlsHandshakes.ShouldBe(recording.Connections.Count);
        await ShouldHaveUsedTls(A, B);
    }

    [Fact]
    public async Task Should_move_over_multifd_channels_each_with_its_own_tls_session_and_the_guest_intact()
    {
        await _lab.StartVm(A, Vm, mib: 8, rate: 16);
        var observer = new RecordingObserver();
        var (recording, transfer) = await MigrateRecorded(B, tls: true, observer, multifd: 4);
        await using (recording)
            await transfer;

        observer.RunningOn.ShouldBe(B);
        (await _lab.RunsOn(B, Vm)).IntegrityErrors.ShouldBe(0u);
        recording.Connections.Count.ShouldBe(5, "the main stream and 4 multifd channels");
        recording.TlsHandshakes.ShouldBe(5);
        recording.Occurrences(StreamRecorder.GuestMarker).ShouldBe(0);
        await ShouldHaveUsedTls(A, B);
    }

    [Fact]
    [Trait("Category", "Chaos")]
    public async Task Should_resume_a_paused_post_copy_over_tls_and_arrive_intact()
    {
        await _lab.StartVm(A, Vm, mib: 32, rate: 256);
        var id = Guid.NewGuid();
        var observer = new RecordingObserver();
        var monitor = await QmpClient.ConnectAsync(_lab.Hosts.MonitorSocket(A, Vm), TimeSpan.FromSeconds(10));
        var watch = new MigrationWatch(monitor);
        var prepared = await Driver.PrepareTargetAsync(Prepare(id, B, tls: true), default);
        var transfer = Driver.MigrateAsync(Transfer(id, B, prepared.IncomingUri!, tls: true, MigrationStrategies.PostCopy, bandwidthMiBps: 16),
            observer, default);
        await watch.PostCopyActive.WaitAsync(TimeSpan.FromSeconds(60));
        await Eventually.Get(() => _lab.RunState(B, Vm), s => s == "running", "the guest to run on the destination in post-copy");

        await monitor.ExecuteAsync("migrate-pause");
        await monitor.DisposeAsync();
        await transfer;

        observer.Recoveries.ShouldHaveSingleItem().ShouldContain("migrate-recover on host-b");
        (await _lab.RunsOn(B, Vm)).IntegrityErrors.ShouldBe(0u);
        await ShouldHaveUsedTls(A, B);
    }

    /// <summary>QEMU's own parameters on both sides: the stream's credentials, and the name the target's certificate was checked against.</summary>
    async Task ShouldHaveUsedTls(string source, string target)
    {
        await using (var qmp = await QmpClient.ConnectAsync(_lab.Hosts.MonitorSocket(source, Vm), TimeSpan.FromSeconds(10)))
        {
            var parameters = await qmp.ExecuteAsync("query-migrate-parameters");
            parameters.GetProperty("tls-creds").GetString().ShouldBe(QemuTls.ObjectId);
            parameters.GetProperty("tls-hostname").GetString().ShouldBe(target);
        }
        await using (var qmp = await QmpClient.ConnectAsync(_lab.Hosts.MonitorSocket(target, Vm), TimeSpan.FromSeconds(10)))
            (await qmp.ExecuteAsync("query-migrate-parameters")).GetProperty("tls-creds").GetString().ShouldBe(QemuTls.ObjectId);
    }
}
