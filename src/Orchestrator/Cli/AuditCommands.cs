using System.CommandLine;
using System.Text.Json;
using Marten;
using Npgsql;
using Orchestrator.Hosting;
using Orchestrator.ReadModels.Audit;
using Orchestrator.ReadModels.Audit.Ledger;
using Spectre.Console;

namespace Orchestrator.Cli;

/// <summary>
/// What an auditor runs, on the event store directly: re-compute the hash chains and name the first event that does not
/// fit, replay, export, and the ledger's checkpoints and proofs (<see cref="LedgerCommands"/>). Every command speaks
/// <c>-o json</c> and reports a failure as one line on standard error.
/// </summary>
public static class AuditCommands
{
    public static Command Create()
    {
        var audit = new Command("audit", "Check the history: verify the hash chains, replay to a point, export.");
        audit.Subcommands.Add(Verify());
        audit.Subcommands.Add(Replay());
        audit.Subcommands.Add(Export());
        LedgerCommands.AddTo(audit);
        return audit;
    }

    static Command Replay()
    {
        var id = new Argument<Guid>("id") { Description = "The migration id." };
        var version = new Option<long?>("--version") { Description = "The stream version to stop at." };
        var at = new Option<DateTimeOffset?>("--at") { Description = "The moment to stop at (ISO 8601)." };
        var output = CliOptions.Output();
        var command = new Command("replay", "Show a migration as it stood at a version or a moment, rebuilt from its events.") { id, version, at, output };
        command.SetAction((parse, cancellationToken) => Run(async store =>
        {
            await using var session = store.QuerySession();
            var stream = await session.Events.FetchStreamStateAsync(parse.GetValue(id), cancellationToken);
            if (stream is not null && (parse.GetValue(version) is < 1 || parse.GetValue(version) > stream.Version || parse.GetValue(at) < stream.Created))
                throw new CliError(ExitCodes.Usage, $"Migration {parse.GetValue(id)} has versions 1 to {stream.Version}, events from {stream.Created:O} on.");
            var summary = await MigrationReplay.AsOf(session, parse.GetValue(id), parse.GetValue(version), parse.GetValue(at), cancellationToken)
                ?? throw new CliError(ExitCodes.NotFound, $"No migration {parse.GetValue(id)}.");
            if (OperatorCommands.IsJson(parse, output))
                OperatorCommands.WriteJson(JsonSerializer.SerializeToElement(summary, OrchestratorApiClient.Json));
            else
                Render.Summary(summary);
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    static Command Export()
    {
        var id = new Argument<Guid?>("id") { Description = "A stream id (a migration, a drain); without it, every stream.", Arity = ArgumentArity.ZeroOrOne };
        var since = new Option<DateTimeOffset?>("--since") { Description = "Events stored at or after this moment." };
        var until = new Option<DateTimeOffset?>("--until") { Description = "Events stored before this moment." };
        var output = new Option<string>("--output", "-o") { Description = "json (NDJSON, the only form an export takes).", DefaultValueFactory = _ => "json" };
        output.AcceptOnlyFromAmong("json");
        var command = new Command("export", "Write history as NDJSON to standard output: one event a line, with every field its hash and the ledger cover.")
            { id, since, until, output };
        command.SetAction((parse, cancellationToken) => Run(async store =>
        {
            await using var stdout = new StreamWriter(Console.OpenStandardOutput());
            await AuditExport.WriteNdjson(store, stdout, parse.GetValue(id), parse.GetValue(since), parse.GetValue(until), cancellationToken);
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    static Command Verify()
    {
        var id = new Argument<Guid?>("id") { Description = "A stream id (a migration, a drain).", Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all") { Description = "Every stream in the store (migrations, drains, any other) and the ledger over them." };
        var checkpoint = new Option<FileInfo[]>("--checkpoint") { Description = "Checkpoint files kept from 'audit checkpoint': the ledger must still extend each." };
        var publicKey = new Option<FileInfo?>("--public-key") { Description = "The signer's public key (PEM): every checkpoint must be signed with it." };
        var output = CliOptions.Output();
        var command = new Command("verify", "Re-compute the hash chain of a stream's events (or of all, and the ledger) and report the first altered, inserted or deleted event.")
            { id, all, checkpoint, publicKey, output };
        command.SetAction((parse, cancellationToken) => Run(async store =>
        {
            IReadOnlyList<ChainVerdict> verdicts;
            if (parse.GetValue(id) is { } one)
            {
                var verdict = await ChainVerifier.Verify(store, one, cancellationToken);
                // A history with no events is not an intact one: nobody knows this stream.
                if (verdict.Events == 0)
                    throw new CliError(ExitCodes.NotFound, $"No migration {one} is known.");
                verdicts = [verdict];
            }
            else if (parse.GetValue(all))
                verdicts = await ChainVerifier.VerifyAll(store, cancellationToken);
            else
                throw new CliError(ExitCodes.Usage, "Name a migration id, or --all.");
            var kept = new List<Checkpoint>();
            foreach (var file in parse.GetValue(checkpoint) ?? [])
                kept.Add(Checkpoint.Parse(await File.ReadAllTextAsync(file.FullName, cancellationToken)));
            var key = parse.GetValue(publicKey) is { } pem ? SigningKey.ReadPublicKeyPem(await File.ReadAllTextAsync(pem.FullName, cancellationToken)) : null;
            var ledger = parse.GetValue(all) || kept.Count > 0 ? await LedgerVerifier.Verify(store, kept, key, cancellationToken) : null;

            var broken = verdicts.Count(v => !v.Intact);
            var intact = broken == 0 && ledger?.Intact != false;
            if (OperatorCommands.IsJson(parse, output))
                OperatorCommands.WriteJson(JsonSerializer.SerializeToElement(new { intact, streams = verdicts, ledger }, OrchestratorApiClient.Json));
            else
            {
                foreach (var verdict in verdicts)
                    if (verdict.Intact)
                        AnsiConsole.MarkupLineInterpolated($"[green]intact[/]  {verdict.StreamId}  {verdict.Events} events");
                    else
                        AnsiConsole.MarkupLineInterpolated($"[red bold]BROKEN[/]  {verdict.StreamId}  at event {verdict.FirstBrokenVersion}: {verdict.Problem}");
                AnsiConsole.MarkupLineInterpolated($"{verdicts.Count - broken} of {verdicts.Count} histories intact.");
                if (ledger is { Intact: true })
                    AnsiConsole.MarkupLineInterpolated($"[green]ledger intact[/]  {ledger.Entries} events, {ledger.CheckpointsChecked} checkpoints checked");
                else if (ledger is not null)
                    AnsiConsole.MarkupLineInterpolated($"[red bold]LEDGER BROKEN[/]  {ledger.Problem}");
            }
            return intact ? ExitCodes.Ok : ExitCodes.TamperingFound;
        }, cancellationToken));
        return command;
    }

    /// <summary>
    /// Opens the store and runs an audit; any failure is one plain line on standard error with its exit code: tampering
    /// 5, else what <see cref="Failures"/> says (7 when PostgreSQL is away or refuses). A read-only audit (all but <c>checkpoint</c>) never changes the
    /// schema, so it runs under a role that may only SELECT.
    /// </summary>
    internal static async Task<int> Run(Func<DocumentStore, Task<int>> action, CancellationToken cancellationToken, bool readOnly = true)
    {
        try
        {
            var settings = OrchestratorSettings.From(OrchestratorSettings.LoadConfiguration());
            await using var store = readOnly ? OperatorCommands.OpenReadOnlyStore(settings) : OperatorCommands.OpenStore(settings);
            return await action(store);
        }
        catch (CliError error)
        {
            Console.Error.WriteLine(error.Message);
            return error.ExitCode;
        }
        catch (TamperedHistoryException tampered)
        {
            Console.Error.WriteLine($"TAMPERED: {tampered.Message}");
            return ExitCodes.TamperingFound;
        }
        catch (Exception failure) when (failure is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // One line, as every command says it: PostgreSQL away or refusing (42501 for a right the role lacks) is 7.
            return Failures.Report(failure);
        }
    }
}
