using System.Diagnostics;
using Marten;
using Npgsql;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Migrations;
using static Orchestrator.ReadModels.Tests.StateChanges;

namespace Orchestrator.ReadModels.Tests;

/// <summary>Histories as serve writes them (principal, correlation and causation on every commit), SQL as a tamperer runs it, and the independent verifier.</summary>
static class AuditHistory
{
    static readonly DateTimeOffset T0 = new(2026, 11, 24, 9, 0, 0, TimeSpan.Zero);

    /// <summary>A migration of 15 events in 7 commits; event 8 (PreCopyRoundCompleted) holds 4294967296 as BytesTransferred.</summary>
    public static async Task<Guid> WriteMigration(IDocumentStore store)
    {
        var id = Guid.NewGuid();
        object[][] commits =
        [
            [new MigrationRequested(id, "vm-audit", "a", "b", HypervisorKinds.Sim, MigrationStrategies.PreCopy, new MigrationPolicy(), "auditor-test", T0),
             new MigrationAdmitted(id, 1, T0), Moved(id, null, MigrationStates.Checking, T0)],
            [new PreflightPassed(id, 4096, 5, T0), Moved(id, MigrationStates.Checking, MigrationStates.Preparing, T0)],
            [new TargetPrepared(id, "b", 1, T0.AddSeconds(1)), Moved(id, MigrationStates.Preparing, MigrationStates.PreCopying, T0.AddSeconds(1))],
            [new PreCopyRoundCompleted(id, 1, 4L << 30, 512, 10, 100, 5.12, T0.AddSeconds(2))],
            [new StopAndCopyCompleted(id, 5.12, 512, T0.AddSeconds(3)), Moved(id, MigrationStates.PreCopying, MigrationStates.SwitchingOver, T0.AddSeconds(3))],
            [new SwitchoverCompleted(id, "b", 4608, T0.AddSeconds(3)), Moved(id, MigrationStates.SwitchingOver, MigrationStates.CleaningUp, T0.AddSeconds(3))],
            [new SourceCleanedUp(id, "a", T0.AddSeconds(4)), new MigrationCompleted(id, "vm-audit", "b", 5.12, 4000, T0.AddSeconds(4)),
             Moved(id, MigrationStates.CleaningUp, MigrationStates.Completed, T0.AddSeconds(4))],
        ];
        var commit = 0;
        foreach (var events in commits)
        {
            await using var session = store.LightweightSession();
            session.SetHeader("principal", "operator-alice");
            session.CorrelationId = $"corr-{id:N}";
            session.CausationId = $"cause-{++commit}";
            session.Events.Append(id, events);
            await session.SaveChangesAsync();
        }
        return id;
    }

    /// <summary>A host drain's stream, as the drain consumer writes it.</summary>
    public static async Task<Guid> WriteDrain(IDocumentStore store)
    {
        var id = Guid.NewGuid();
        await using var session = store.LightweightSession();
        session.SetHeader("principal", "operator-bob");
        session.Events.StartStream(id, new HostDrainRequested(id, "host-a", HypervisorKinds.Sim, ["host-b"], "operator-bob", T0),
            new HostDrainPlanned(id, [new DrainMove("vm-1", Guid.NewGuid(), "host-b", 4L << 30)], [], T0));
        await session.SaveChangesAsync();
        return id;
    }

    public static async Task Sql(string schema, string sql, Guid id)
    {
        await using var connection = new NpgsqlConnection(TestServices.Postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql.Replace("{schema}", schema), connection);
        command.Parameters.AddWithValue("id", id);
        (await command.ExecuteNonQueryAsync()).ShouldBeGreaterThan(0);
    }

    /// <summary>Runs tools/audit_verify.py, the verifier that shares no code with the product, on an export file.</summary>
    public static async Task<(int ExitCode, string Output)> Python(params string[] arguments)
    {
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(RepositoryRoot(), "tools", "audit_verify.py"));
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await error);
    }

    static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "tools", "audit_verify.py")))
                return directory.FullName;
        throw new InvalidOperationException("tools/audit_verify.py is not above " + AppContext.BaseDirectory);
    }
}
