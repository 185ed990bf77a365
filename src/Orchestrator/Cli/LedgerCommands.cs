using System.CommandLine;
using System.Text.Json;
using Orchestrator.Hosting;
using Orchestrator.ReadModels.Audit.Ledger;
using Spectre.Console;

namespace Orchestrator.Cli;

/// <summary>
/// The ledger's commands under <c>orchestrator audit</c>: take a signed checkpoint (to a file an auditor keeps), show the
/// public key, make a key, and prove an event's inclusion in, or the store's consistency with, a kept checkpoint.
/// </summary>
public static class LedgerCommands
{
    public static void AddTo(Command audit)
    {
        audit.Subcommands.Add(TakeCheckpoint());
        audit.Subcommands.Add(PublicKey());
        audit.Subcommands.Add(KeyGen());
        audit.Subcommands.Add(Prove());
    }

    /// <summary>The signing key from configuration (<c>Audit:SigningKey</c>, or <c>Audit__SigningKey</c> in the environment).</summary>
    public static SigningKey ConfiguredKey()
    {
        var seed = OrchestratorSettings.LoadConfiguration()["Audit:SigningKey"];
        if (string.IsNullOrWhiteSpace(seed))
            throw new CliError(ExitCodes.Usage, "No signing key: set Audit:SigningKey (Audit__SigningKey) to a base64 Ed25519 key; 'orchestrator audit keygen' makes one.");
        try
        {
            return SigningKey.FromBase64(seed);
        }
        catch (FormatException bad)
        {
            throw new CliError(ExitCodes.Usage, $"Audit:SigningKey is not usable: {bad.Message}");
        }
    }

    static Command TakeCheckpoint()
    {
        var file = new Option<FileInfo?>("--file", "-f") { Description = "Write the signed checkpoint here (else to standard output)." };
        var output = new Option<string>("--output", "-o") { Description = "json (the checkpoint file's form, the only one).", DefaultValueFactory = _ => "json" };
        output.AcceptOnlyFromAmong("json");
        var command = new Command("checkpoint", "Ledger every event not yet ledgered, sign the tree head with the configured key, store it, and write it out.") { file, output };
        command.SetAction((parse, cancellationToken) => AuditCommands.Run(async store =>
        {
            var checkpoint = await AuditLedger.TakeCheckpoint(store, ConfiguredKey(), DateTimeOffset.UtcNow, cancellationToken);
            if (parse.GetValue(file) is { } path)
            {
                await File.WriteAllTextAsync(path.FullName, checkpoint.ToFileJson() + "\n", cancellationToken);
                Console.Error.WriteLine($"checkpoint of {checkpoint.TreeSize} events, root {checkpoint.RootHash}, written to {path.FullName}");
            }
            else
                Console.Out.WriteLine(checkpoint.ToFileJson());
            return ExitCodes.Ok;
        }, cancellationToken, readOnly: false));
        return command;
    }

    static Command PublicKey()
    {
        var output = CliOptions.Output();
        var command = new Command("public-key", "Print the public key of the configured signing key (PEM), for auditors to check checkpoints with.") { output };
        command.SetAction(parse =>
        {
            try
            {
                var key = ConfiguredKey();
                if (OperatorCommands.IsJson(parse, output))
                    OperatorCommands.WriteJson(JsonSerializer.SerializeToElement(new { keyId = key.KeyId, publicKey = key.PublicKeyPem() }, OrchestratorApiClient.Json));
                else
                    Console.Out.Write(key.PublicKeyPem());
                return ExitCodes.Ok;
            }
            catch (CliError error)
            {
                Console.Error.WriteLine(error.Message);
                return error.ExitCode;
            }
        });
        return command;
    }

    static Command KeyGen()
    {
        var output = CliOptions.Output();
        var command = new Command("keygen", "Print a new Ed25519 signing key (base64) for Audit:SigningKey. Keep it secret; publish its public key.") { output };
        command.SetAction(parse =>
        {
            var seed = SigningKey.GenerateBase64();
            if (OperatorCommands.IsJson(parse, output))
                OperatorCommands.WriteJson(JsonSerializer.SerializeToElement(new { signingKey = seed, keyId = SigningKey.FromBase64(seed).KeyId }, OrchestratorApiClient.Json));
            else
                Console.Out.WriteLine(seed);
            return ExitCodes.Ok;
        });
        return command;
    }

    static Command Prove()
    {
        var checkpointFile = new Option<FileInfo>("--checkpoint") { Description = "A checkpoint file (audit checkpoint).", Required = true };
        var sequence = new Option<long?>("--sequence") { Description = "Prove the event with this sequence number included in the checkpoint." };
        var from = new Option<FileInfo?>("--from") { Description = "An older checkpoint file: prove the newer one extends it (consistency)." };
        var output = CliOptions.Output();
        var command = new Command("prove", "RFC 9162 proofs from the ledger: an event's inclusion in a checkpoint, or one checkpoint's consistency with an older one.")
            { checkpointFile, sequence, from, output };
        command.SetAction((parse, cancellationToken) => AuditCommands.Run(async store =>
        {
            var checkpoint = Checkpoint.Parse(await File.ReadAllTextAsync(parse.GetValue(checkpointFile)!.FullName, cancellationToken));
            var older = parse.GetValue(from) is { } path ? Checkpoint.Parse(await File.ReadAllTextAsync(path.FullName, cancellationToken)) : null;
            if (parse.GetValue(sequence) is null == older is null)
                throw new CliError(ExitCodes.Usage, "Give --sequence N (inclusion) or --from OLDER-CHECKPOINT (consistency).");
            await using var connection = store.Storage.Database.CreateConnection();
            await connection.OpenAsync(cancellationToken);
            var entries = await AuditLedger.Entries(connection, store, cancellationToken);
            var proof = LedgerProofs.Prove(entries, checkpoint, parse.GetValue(sequence), older);
            if (OperatorCommands.IsJson(parse, output))
                OperatorCommands.WriteJson(JsonSerializer.SerializeToElement(proof, OrchestratorApiClient.Json));
            else if (proof.Verified)
                AnsiConsole.MarkupLineInterpolated($"[green]proved[/]  {proof.Kind}: {proof.Statement}");
            else
                AnsiConsole.MarkupLineInterpolated($"[red bold]NOT PROVED[/]  {proof.Kind}: {proof.Statement}");
            return proof.Verified ? ExitCodes.Ok : ExitCodes.TamperingFound;
        }, cancellationToken));
        return command;
    }
}
