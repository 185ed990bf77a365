using System.CommandLine;
using System.Text.Json;
using Marten;
using Orchestrator.Api;
using Orchestrator.Contracts;
using Orchestrator.Hosting;
using Orchestrator.ReadModels.Migrations;
using Spectre.Console;

namespace Orchestrator.Cli;

/// <summary>
/// What an operator types. These commands talk to the HTTP API of <c>orchestrator serve</c> with the configured key
/// (<see cref="OrchestratorApiClient"/>), so they see and may do exactly what that key's role allows. Every read command
/// also speaks <c>--output json</c>; exit codes are in <see cref="ExitCodes"/>.
/// </summary>
public static class OperatorCommands
{
    /// <summary>Where the HTTP API is: an option of each command that talks to it (<see cref="CommandLine"/> adds it), and of no other.</summary>
    public static readonly Option<string?> Api = new("--api")
    {
        Description = $"The orchestrator HTTP API (default: ORCHESTRATOR_API, Cli:Api, or {OrchestratorApiClient.DefaultAddress}). The key comes from ORCHESTRATOR_API_KEY.",
    };

    public static Command Migrate()
    {
        var vm = new Option<string>("--vm") { Description = "The VM to move.", Required = true };
        var from = new Option<string>("--from") { Description = "The host it runs on now.", Required = true };
        var to = new Option<string>("--to") { Description = "The host to move it to.", Required = true };
        var hypervisor = new Option<string>("--hypervisor") { Description = "The hypervisor kind (sim, qemu).", DefaultValueFactory = _ => HypervisorKinds.Sim }
            .OneOf(HypervisorKinds.All, "a hypervisor kind");
        var strategy = new Option<string?>("--strategy") { Description = "precopy, postcopy, hybrid or auto." }.OneOf(MigrationStrategies.All, "a strategy");
        var maxDowntime = new Option<int?>("--max-downtime-ms") { Description = "The longest pause the VM may see." };
        var maxBandwidth = new Option<int?>("--max-bandwidth-mibps") { Description = "The most the migration may use of the link." };
        var postCopy = new Option<bool?>("--allow-post-copy") { Description = "Whether the policy may switch to post-copy." };
        var priority = new Option<int?>("--priority") { Description = "Admission priority: higher goes first when hosts are busy." };
        var multifd = new Option<int?>("--multifd-channels") { Description = "Parallel connections for the memory stream (qemu multifd, 1-255; 0: off)." };
        var xbzrle = new Option<int?>("--xbzrle-cache-mib") { Description = "XBZRLE delta compression with a source cache of this many MiB (a power of two; 0: off)." };
        var encryption = new Option<bool?>("--require-encryption") { Description = "Whether the memory stream must be encrypted (TLS; default: on for qemu, off for sim)." };
        var diskDeadline = new Option<int?>("--disk-mirror-deadline-seconds") { Description = "How long the mirror of the VM's local disks may take to be ready (default 600; 0: no deadline)." };
        var deadline = new Option<DateTimeOffset?>("--deadline") { Description = "When it must have ended (ISO 8601): admission orders by it, and a migration forecast to end later is rejected." };
        var wait = new Option<bool>("--wait") { Description = "Wait until the migration ends; exit 3 unless it completed." };
        var output = CliOptions.Output();
        var command = new Command("migrate", "Start a live migration.") { vm, from, to, hypervisor, strategy, maxDowntime, maxBandwidth, postCopy, priority, multifd, xbzrle, encryption, diskDeadline, deadline, wait, output };
        command.SetAction((parse, cancellationToken) => Run(parse, async api =>
        {
            CliInput.Name("VmId (--vm)", parse.GetValue(vm));
            CliInput.Name("SourceHost (--from)", parse.GetValue(from));
            CliInput.Name("TargetHost (--to)", parse.GetValue(to));
            var policy = new MigrationPolicy(MaxDowntimeMs: parse.GetValue(maxDowntime), MaxBandwidthMiBps: parse.GetValue(maxBandwidth),
                AllowPostCopy: parse.GetValue(postCopy), Priority: parse.GetValue(priority),
                MultifdChannels: parse.GetValue(multifd), XbzrleCacheMiB: parse.GetValue(xbzrle),
                RequireEncryption: parse.GetValue(encryption), DiskMirrorDeadlineSeconds: parse.GetValue(diskDeadline));
            var accepted = await api.Post("/api/migrations", new
            {
                vmId = parse.GetValue(vm), sourceHost = parse.GetValue(from), targetHost = parse.GetValue(to),
                hypervisor = parse.GetValue(hypervisor), strategy = parse.GetValue(strategy),
                policy = policy == new MigrationPolicy() ? null : policy,
                deadline = parse.GetValue(deadline),
            }, cancellationToken);
            var migrationId = accepted.GetProperty("migrationId").GetGuid();
            if (!IsJson(parse, output))
                AnsiConsole.MarkupLineInterpolated($"Migration [bold]{migrationId}[/] requested: {parse.GetValue(vm)} {parse.GetValue(from)} → {parse.GetValue(to)}");
            if (!parse.GetValue(wait))
            {
                if (IsJson(parse, output))
                    WriteJson(accepted);
                return ExitCodes.Ok;
            }
            return await Watcher.Follow(api, migrationId, IsJson(parse, output), TimeSpan.FromMilliseconds(250), cancellationToken, justStarted: true);
        }, cancellationToken));
        return command;
    }

    public static Command List()
    {
        var state = new Option<string?>("--state") { Description = $"Only migrations in this state: {string.Join(", ", MigrationStates.All)}." }.OneOf(MigrationStates.All, "a state");
        var host = new Option<string?>("--host") { Description = "Only migrations from or to this host." };
        var vm = new Option<string?>("--vm") { Description = "Only migrations of this VM." };
        var hypervisor = new Option<string?>("--hypervisor") { Description = "Only migrations on this hypervisor kind." }.OneOf(HypervisorKinds.All, "a hypervisor kind");
        var since = new Option<DateTimeOffset?>("--since") { Description = "Requested at or after this moment (ISO 8601)." };
        var until = new Option<DateTimeOffset?>("--until") { Description = "Requested before this moment (ISO 8601)." };
        var page = new Option<int>("--page") { Description = "The page, from 1.", DefaultValueFactory = _ => 1 }.Within(1, ListQuery.MaxPage);
        var pageSize = new Option<int>("--page-size") { Description = "Migrations per page (1–500).", DefaultValueFactory = _ => ListQuery.DefaultPageSize }
            .Within(1, ListQuery.MaxPageSize);
        var output = CliOptions.Output();
        var command = new Command("list", "List migrations, newest first.") { state, host, vm, hypervisor, since, until, page, pageSize, output };
        command.SetAction((parse, cancellationToken) => Run(parse, async api =>
        {
            var query = Query(("state", parse.GetValue(state)), ("host", parse.GetValue(host)), ("vm", parse.GetValue(vm)),
                ("hypervisor", parse.GetValue(hypervisor)), ("since", parse.GetValue(since)?.ToString("O")), ("until", parse.GetValue(until)?.ToString("O")),
                ("page", parse.GetValue(page).ToString()), ("pageSize", parse.GetValue(pageSize).ToString()));
            var result = await api.Get($"/api/migrations{query}", cancellationToken);
            if (IsJson(parse, output))
            {
                WriteJson(result);
                return ExitCodes.Ok;
            }
            var items = result.GetProperty("items").Deserialize<List<MigrationSummary>>(OrchestratorApiClient.Json)!;
            Render.Summaries(items);
            var footer = $"page {result.GetProperty("page").GetInt32()}, {items.Count} of {result.GetProperty("total").GetInt32()} migrations";
            // Piped, standard output holds the rows alone (a script counts or cuts them); the footer goes to stderr.
            if (Tables.Piped)
                Console.Error.WriteLine(footer);
            else
                AnsiConsole.MarkupLineInterpolated($"[grey]{footer}[/]");
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    public static Command Show()
    {
        var id = Ids.Argument();
        var output = CliOptions.Output();
        var command = new Command("show", "Show one migration: state, hosts, policy, progress, reason.") { id, output };
        command.SetAction((parse, cancellationToken) => Run(parse, async api =>
        {
            var summary = await api.Get($"/api/migrations/{await Ids.Migration(api, parse.GetValue(id)!, cancellationToken)}", cancellationToken);
            if (IsJson(parse, output))
                WriteJson(summary);
            else
                Render.Summary(summary.Deserialize<MigrationSummary>(OrchestratorApiClient.Json)!);
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    public static Command Watch()
    {
        var id = Ids.OptionalArgument("A migration to follow to its end (its id or a unique prefix); without it, a live table of migrations (Ctrl-C ends it).");
        var interval = new Option<int>("--interval-ms") { Description = "How often to refresh.", DefaultValueFactory = _ => 500 };
        var output = CliOptions.Output("json: one summary a line (NDJSON) each time it changes.");
        var command = new Command("watch", "Follow migrations live: phase, round, bytes remaining, dirty rate, expected downtime.") { id, interval, output };
        command.SetAction((parse, cancellationToken) => Run(parse, async api =>
        {
            var every = TimeSpan.FromMilliseconds(Math.Max(50, parse.GetValue(interval)));
            return parse.GetValue(id) is { } text
                ? await Watcher.Follow(api, await Ids.Migration(api, text, cancellationToken), IsJson(parse, output), every, cancellationToken)
                : await Watcher.Fleet(api, IsJson(parse, output), every, cancellationToken);
        }, cancellationToken));
        return command;
    }

    public static Command History()
    {
        var id = Ids.Argument();
        var output = CliOptions.Output();
        var command = new Command("history", "Show every event of a migration, in order, with its data.") { id, output };
        command.SetAction((parse, cancellationToken) => Run(parse, async api =>
        {
            var migrationId = await Ids.Migration(api, parse.GetValue(id)!, cancellationToken);
            var events = await api.Get($"/api/migrations/{migrationId}/events", cancellationToken);
            if (IsJson(parse, output))
                WriteJson(events);
            else
                Render.History(migrationId, events);
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    public static Command Cancel()
    {
        var id = Ids.Argument();
        var reason = new Option<string?>("--reason") { Description = "Why; recorded in the migration's history." };
        var command = new Command("cancel", "Cancel a migration before its switchover; the VM stays on its source.") { id, reason };
        command.SetAction((parse, cancellationToken) => Run(parse, async api =>
        {
            var migrationId = await Ids.Migration(api, parse.GetValue(id)!, cancellationToken);
            await api.Post($"/api/migrations/{migrationId}/cancel", new { reason = parse.GetValue(reason) }, cancellationToken);
            AnsiConsole.MarkupLineInterpolated($"Cancel of {migrationId} accepted. 'orchestrator watch {migrationId}' follows it to its end.");
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    public static Command ForceComplete()
    {
        var id = Ids.Argument();
        var command = new Command("force-complete", "Finish a migration that does not converge: post-copy where allowed, else the downtime cap.") { id };
        command.SetAction((parse, cancellationToken) => Run(parse, async api =>
        {
            var migrationId = await Ids.Migration(api, parse.GetValue(id)!, cancellationToken);
            await api.Post($"/api/migrations/{migrationId}/force-complete", null, cancellationToken);
            AnsiConsole.MarkupLineInterpolated($"Force-complete of {migrationId} accepted. 'orchestrator history {migrationId}' shows what the policy did.");
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    public static Command Retry()
    {
        var id = Ids.Argument();
        var wait = new Option<bool>("--wait") { Description = "Wait until the new migration ends; exit 3 unless it completed." };
        var output = CliOptions.Output();
        var command = new Command("retry", "Start a new migration asking again what a rolled-back, cancelled or rejected one asked.") { id, wait, output };
        command.SetAction((parse, cancellationToken) => Run(parse, async api =>
        {
            var retried = await Ids.Migration(api, parse.GetValue(id)!, cancellationToken);
            var accepted = await api.Post($"/api/migrations/{retried}/retry", null, cancellationToken);
            var migrationId = accepted.GetProperty("migrationId").GetGuid();
            if (IsJson(parse, output) && !parse.GetValue(wait))
                WriteJson(accepted);
            else if (!IsJson(parse, output))
                AnsiConsole.MarkupLineInterpolated($"Retry of {retried} started as migration [bold]{migrationId}[/].");
            return parse.GetValue(wait)
                ? await Watcher.Follow(api, migrationId, IsJson(parse, output), TimeSpan.FromMilliseconds(250), cancellationToken, justStarted: true)
                : ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    public static Command Recover()
    {
        var id = Ids.Argument();
        var wait = new Option<bool>("--wait") { Description = "Wait for the verdict and the end it leads to; exit 3 unless it completed." };
        var output = CliOptions.Output();
        var command = new Command("recover",
            "Ask the hosts where the VM really runs and drive the migration to the end that implies: finish, roll back, or Failed with the VM lost.")
            { id, wait, output };
        command.SetAction((parse, cancellationToken) => Run(parse, async api =>
        {
            var migrationId = await Ids.Migration(api, parse.GetValue(id)!, cancellationToken);
            var before = (await api.Get<MigrationSummary>($"/api/migrations/{migrationId}", cancellationToken)).Recoveries;
            await api.Post($"/api/migrations/{migrationId}/recover", null, cancellationToken);
            if (!IsJson(parse, output))
                AnsiConsole.MarkupLineInterpolated($"Recovery of {migrationId} started: the workers of both hosts are asked where the VM runs.");
            if (!parse.GetValue(wait))
                return ExitCodes.Ok;
            // A recovery may start from Failed: the end that counts is the one after this recovery began.
            return await Watcher.Follow(api, migrationId, IsJson(parse, output), TimeSpan.FromMilliseconds(250), cancellationToken,
                begun: s => s.Recoveries > before);
        }, cancellationToken));
        return command;
    }

    public static DocumentStore OpenStore(OrchestratorSettings settings) => DocumentStore.For(options => Roles.Configure(options, settings));

    /// <summary>The same store, never changing the schema (no table, function or index created or altered): for audits under a SELECT-only role.</summary>
    public static DocumentStore OpenReadOnlyStore(OrchestratorSettings settings) => DocumentStore.For(options =>
    {
        Roles.Configure(options, settings);
        options.AutoCreateSchemaObjects = JasperFx.AutoCreate.None;
    });

    /// <summary>Runs a command against the API; a <see cref="CliError"/> is printed to standard error with its exit code.</summary>
    public static async Task<int> Run(ParseResult parse, Func<OrchestratorApiClient, Task<int>> action, CancellationToken cancellationToken)
    {
        try
        {
            using var api = OrchestratorApiClient.Create(parse.GetValue(Api));
            return await action(api);
        }
        catch (CliError error)
        {
            // One plain line on standard error, never wrapped: scripts and logs read it whole.
            Console.Error.WriteLine(error.Message);
            return error.ExitCode;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Ok;
        }
    }

    public static bool IsJson(ParseResult parse, Option<string> output) => parse.GetValue(output) == "json";

    public static void WriteJson(JsonElement element, bool indented = true) =>
        Console.Out.WriteLine(JsonSerializer.Serialize(element, new JsonSerializerOptions { WriteIndented = indented }));

    public static string Query(params (string Name, string? Value)[] parameters)
    {
        var present = parameters.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToList();
        return present.Count == 0 ? string.Empty : "?" + string.Join("&", present);
    }
}
