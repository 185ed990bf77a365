using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Orchestrator.Api;
using Orchestrator.Cli;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Tests;

/// <summary>
/// The CLI with its output in a pipe (standard output redirected, as here): whole ids on plain lines that a script can
/// cut, never wrapped at 80 columns or drawn with borders; ids typed as any prefix only one migration's id starts with.
/// </summary>
[Trait("Category", "Integration")]
[Collection(RabbitMqCollection.Name)]
public sealed class When_an_operator_pipes_the_cli_and_types_short_ids(RabbitMqOrchestrator orchestrator) : IAsyncLifetime
{
    static readonly char[] Drawn = ['│', '─', '╭', '╰', '┌', '└'];
    ApiServer _api = null!;

    public async ValueTask InitializeAsync() => _api = await ApiServer.StartAsync(orchestrator.Settings);

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    Task<CliProcess.Result> Cli(params string[] arguments) => CliProcess.Run(
        new Dictionary<string, string> { ["ORCHESTRATOR_API"] = _api.Address.ToString(), ["ORCHESTRATOR_API_KEY"] = ApiServer.Keys[ApiRoles.Operator] }, arguments);

    [Fact]
    public async Task Should_show_whole_ids_on_unwrapped_lines_and_accept_a_unique_prefix()
    {
        // Two ids that share their first 23 characters, as ids of one batch share theirs.
        var shared = Guid.NewGuid().ToString()[..19] + "abc";
        var first = Guid.Parse(shared + "a-" + Guid.NewGuid().ToString("N")[..12]);
        var second = Guid.Parse(shared + "b-" + Guid.NewGuid().ToString("N")[..12]);
        await Start(first, "vm-cli-prefix-1");
        await Start(second, "vm-cli-prefix-2");
        (await orchestrator.WaitForEnd(first))!.State.ShouldBe(MigrationStates.Completed);
        (await orchestrator.WaitForEnd(second))!.State.ShouldBe(MigrationStates.Completed);

        var list = await Cli("list", "--vm", "vm-cli-prefix-1");
        var unique = await Cli("show", first.ToString()[..24]);
        var undashed = await Cli("history", second.ToString("N")[..21]);
        var watched = await Cli("watch", first.ToString()[..24]);
        var ambiguous = await Cli("show", shared);
        var unknown = await Cli("cancel", shared + "c");

        list.ExitCode.ShouldBe(ExitCodes.Ok, list.ToString());
        list.Out.IndexOfAny(Drawn).ShouldBe(-1, list.ToString());
        list.OutLines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries).ShouldBe(["MIGRATION", "VM", "FROM", "TO", "STATE", "ROUND", "REMAINING", "DOWNTIME", "REASON"]);
        // The whole row on one line, longer than the 80 columns the table used to be wrapped at.
        var row = list.OutLines.Where(l => l.Contains(first.ToString())).ShouldHaveSingleItem(list.ToString());
        row.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..5].ShouldBe([first.ToString(), "vm-cli-prefix-1", "e2e-a", "e2e-b", MigrationStates.Completed]);
        row.Length.ShouldBeGreaterThan(80);
        // Rows alone on standard output (the header and one migration); the page footer on stderr.
        list.OutLines.Length.ShouldBe(2, list.ToString());
        list.ErrLines.ShouldHaveSingleItem(list.ToString()).ShouldMatch(@"^page 1, 1 of 1 migrations$");

        unique.ExitCode.ShouldBe(ExitCodes.Ok, unique.ToString());
        unique.Out.ShouldContain(first.ToString());
        unique.Out.ShouldContain("vm-cli-prefix-1");
        unique.Out.IndexOfAny(Drawn).ShouldBe(-1, unique.ToString());
        undashed.ExitCode.ShouldBe(ExitCodes.Ok, undashed.ToString());
        undashed.Out.ShouldContain($"History of migration {second}");
        // Each event on a line of its own, however long its data: no line is the wrapped end of another.
        undashed.OutLines.Skip(1).ShouldAllBe(l => Regex.IsMatch(l, @"^\s*\d+  \d\d:\d\d:\d\d\.\d{3}  "), undashed.ToString());
        undashed.OutLines.ShouldContain(l => l.Length > 80, undashed.ToString());
        // watch, piped: a plain progress line for the migration, which has ended, and the exit code of its outcome.
        watched.ExitCode.ShouldBe(ExitCodes.Ok, watched.ToString());
        var progress = watched.OutLines.ShouldHaveSingleItem(watched.ToString());
        progress.ShouldContain($"{first}  vm-cli-prefix-1 e2e-a → e2e-b  {MigrationStates.Completed}");

        ambiguous.ExitCode.ShouldBe(ExitCodes.Usage, ambiguous.ToString());
        ambiguous.Out.ShouldBeEmpty();
        var said = ambiguous.ErrLines.ShouldHaveSingleItem(ambiguous.ToString());
        said.ShouldContain("ambiguous");
        said.ShouldContain(first.ToString());
        said.ShouldContain(second.ToString());
        unknown.ExitCode.ShouldBe(ExitCodes.NotFound, unknown.ToString());
        unknown.ErrLines.ShouldHaveSingleItem(unknown.ToString()).ShouldContain("No migration's id starts with");
    }

    [Fact]
    public async Task Should_show_the_attention_queue_the_hosts_and_the_statistics()
    {
        // 16 GiB at 1 MiB/s: a first pass of about sixteen seconds without an event, stuck by a threshold of one second.
        var id = Guid.NewGuid();
        await Start(id, RabbitMqOrchestrator.CancelledVm, ""","policy":{"maxBandwidthMiBps":1,"maxDowntimeMs":60000}""");
        try
        {
            await Eventually.Get(() => orchestrator.Summary(id), s => s?.State == MigrationStates.PreCopying, "the migration to copy");

            var attention = await Eventually.Get(() => Cli("attention", "--stuck-after-seconds", "1"),
                r => r.Out.Contains(id.ToString()), "the attention queue (asynchronous) to show the migration stuck");
            var host = await Eventually.Get(() => Cli("hosts", "e2e-a"), r => r.Out.Contains(id.ToString()), "host e2e-a's load to show the migration");
            var hosts = await Cli("hosts");
            var attentionJson = await Cli("attention", "--stuck-after-seconds", "1", "-o", "json");

            attention.ExitCode.ShouldBe(ExitCodes.Ok, attention.ToString());
            attention.OutLines[0].ShouldStartWith("MIGRATION");
            var entry = attention.OutLines.Where(l => l.StartsWith(id.ToString(), StringComparison.Ordinal)).ShouldHaveSingleItem(attention.ToString());
            entry.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..4].ShouldBe([RabbitMqOrchestrator.CancelledVm, "stuck", MigrationStates.PreCopying]);
            JsonDocument.Parse(attentionJson.Out).RootElement.EnumerateArray().Select(e => e.GetProperty("migrationId").GetGuid()).ShouldContain(id);
            host.ExitCode.ShouldBe(ExitCodes.Ok, host.ToString());
            host.OutLines.ShouldContain(l => l.StartsWith(id.ToString(), StringComparison.Ordinal) && l.Contains("outbound") && l.Contains("active"), host.ToString());
            hosts.ExitCode.ShouldBe(ExitCodes.Ok, hosts.ToString());
            hosts.OutLines[0].ShouldStartWith("HOST");
            hosts.OutLines.ShouldContain(l => l.StartsWith("e2e-a ", StringComparison.Ordinal), hosts.ToString());
            hosts.Out.IndexOfAny(Drawn).ShouldBe(-1, hosts.ToString());

            // A write command takes a prefix too.
            var cancel = await Cli("cancel", id.ToString()[..13], "--reason", "seen on the attention queue");
            cancel.ExitCode.ShouldBe(ExitCodes.Ok, cancel.ToString());
            cancel.Out.ShouldContain(id.ToString());
            (await orchestrator.WaitForEnd(id))!.State.ShouldBe(MigrationStates.Cancelled);
        }
        finally
        {
            using var client = _api.Client(ApiRoles.Operator);
            await client.PostAsync($"/api/migrations/{id}/cancel", new StringContent("{}", Encoding.UTF8, "application/json"));
        }

        var stats = await Cli("stats", "--hypervisor", "sim");
        var statsJson = await Cli("stats", "--hypervisor", "sim", "-o", "json");

        stats.ExitCode.ShouldBe(ExitCodes.Ok, stats.ToString());
        stats.OutLines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries).ShouldBe(["STATE", "MIGRATIONS"]);
        int.Parse(stats.OutLines.Single(l => l.StartsWith(MigrationStates.Cancelled + " ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1])
            .ShouldBeGreaterThanOrEqualTo(1);
        stats.OutLines.ShouldContain(l => l.StartsWith("HYPERVISOR", StringComparison.Ordinal), stats.ToString());
        JsonDocument.Parse(statsJson.Out).RootElement.GetProperty("states").GetProperty(MigrationStates.Cancelled).GetInt32().ShouldBeGreaterThanOrEqualTo(1);
    }

    async Task Start(Guid id, string vm, string extra = "")
    {
        using var client = _api.Client(ApiRoles.Operator);
        var response = await client.PostAsync("/api/migrations", new StringContent(
            $$"""{"migrationId":"{{id}}","vmId":"{{vm}}","sourceHost":"e2e-a","targetHost":"e2e-b","hypervisor":"sim"{{extra}}}""", Encoding.UTF8, "application/json"));
        response.StatusCode.ShouldBe(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
    }
}
