namespace Orchestrator.Cli;

/// <summary>Exit codes a script can rely on (the README's table lists the same).</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The orchestrator refused the command (400 or 409): the message says why.</summary>
    public const int Refused = 2;

    /// <summary>The migration ended, but not Completed (rolled back, cancelled, rejected, failed).</summary>
    public const int MigrationDidNotComplete = 3;

    /// <summary>No such migration, drain or host (a full id, or a prefix no migration's id starts with).</summary>
    public const int NotFound = 4;
    public const int TamperingFound = 5;

    /// <summary>No key, a wrong key, or a key whose role may not do this.</summary>
    public const int NotAllowed = 6;

    /// <summary>What the command needs is away: the HTTP API cannot be reached or answers 503 (its database is away), or PostgreSQL for the local commands.</summary>
    public const int Unreachable = 7;

    /// <summary>Bad usage (sysexits' EX_USAGE): an unknown command or option, a value that is not allowed, an id prefix more than one migration starts with.</summary>
    public const int Usage = 64;

    /// <summary>Something the CLI did not expect (sysexits' EX_SOFTWARE): the one line says what; please report it.</summary>
    public const int Internal = 70;
}
