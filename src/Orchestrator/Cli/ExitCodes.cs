namespace Orchestrator.Cli;

/// <summary>Exit codes a script can rely on.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The orchestrator refused the command (400 or 409): the message says why.</summary>
    public const int Refused = 2;

    /// <summary>The migration ended, but not Completed (rolled back, cancelled, rejected, failed).</summary>
    public const int MigrationDidNotComplete = 3;
    public const int NotFound = 4;
    public const int TamperingFound = 5;

    /// <summary>No key, a wrong key, or a key whose role may not do this.</summary>
    public const int NotAllowed = 6;

    /// <summary>The HTTP API could not be reached.</summary>
    public const int Unreachable = 7;
    public const int Usage = 64;
}
