using Orchestrator.TestSupport.Qemu;
using Orchestrator.Workers.Qemu;

namespace Orchestrator.Workers.Tests;

[Trait("Category", "Qemu")]
public sealed class When_a_qmp_client_talks_to_a_real_qemu : IAsyncLifetime
{
    readonly QemuLab _lab = new();

    public async ValueTask InitializeAsync() => await _lab.StartVm("host-a", "vm-qmp");

    public async ValueTask DisposeAsync() => await _lab.DisposeAsync();

    [Fact]
    public async Task Should_negotiate_and_answer_commands_by_id_even_when_sent_at_once()
    {
        await using var qmp = await QmpClient.ConnectAsync(_lab.Hosts.QmpSocket("host-a", "vm-qmp"), TimeSpan.FromSeconds(10));

        qmp.QemuVersion.ShouldStartWith("7.");
        var replies = await Task.WhenAll(
            qmp.ExecuteAsync("query-status"),
            qmp.ExecuteAsync("query-name"),
            qmp.ExecuteAsync("query-memory-size-summary"));
        replies[0].GetProperty("status").GetString().ShouldBe("running");
        replies[1].GetProperty("name").GetString().ShouldBe("vm-qmp");
        replies[2].GetProperty("base-memory").GetInt64().ShouldBe(QemuLab.MemoryKiB * 1024);
    }

    [Fact]
    public async Task Should_turn_an_error_reply_into_an_exception_that_names_the_command()
    {
        await using var qmp = await QmpClient.ConnectAsync(_lab.Hosts.QmpSocket("host-a", "vm-qmp"), TimeSpan.FromSeconds(10));

        var error = await Should.ThrowAsync<QmpException>(() => qmp.ExecuteAsync("no-such-command"));

        error.ErrorClass.ShouldBe("CommandNotFound");
        error.Command.ShouldBe("no-such-command");
        (await qmp.ExecuteAsync("query-status")).GetProperty("status").GetString().ShouldBe("running");
    }

    [Fact]
    public async Task Should_deliver_events_apart_from_replies()
    {
        await using var qmp = await QmpClient.ConnectAsync(_lab.Hosts.QmpSocket("host-a", "vm-qmp"), TimeSpan.FromSeconds(10));
        var events = new List<QmpEvent>();
        qmp.EventReceived += e => { lock (events) events.Add(e); };

        await qmp.ExecuteAsync("stop");
        await qmp.ExecuteAsync("cont");

        await Eventually.Get(() => Task.FromResult(Names()), names => names.Contains("STOP") && names.Contains("RESUME"), "STOP and RESUME events");
        string[] Names() { lock (events) return [.. events.Select(e => e.Name)]; }
    }

    [Fact]
    public async Task Should_fail_pending_commands_and_say_so_when_qemu_dies()
    {
        await using var qmp = await QmpClient.ConnectAsync(_lab.Hosts.QmpSocket("host-a", "vm-qmp"), TimeSpan.FromSeconds(10));
        var status = await GuestStatus.ReadAsync(qmp);
        status.IsRunning.ShouldBeTrue();

        _lab.Kill("host-a", "vm-qmp");

        await qmp.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        qmp.IsConnected.ShouldBeFalse();
        await Should.ThrowAsync<QmpConnectionLostException>(() => qmp.ExecuteAsync("query-status"));
    }
}
