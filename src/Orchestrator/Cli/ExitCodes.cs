namespace Orchestrator.Cli;

/// <summary>Exit codes a script can rely on.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int MigrationDidNotComplete = 3;
    public const int NotFound = 4;
    public const int TamperingFound = 5;
    public const int Usage = 64;
}
