namespace Orchestrator.Contracts;

/// <summary>Machine-readable reasons of <see cref="MigrationRejected"/>.</summary>
public static class RejectionCodes
{
    public const string InvalidCommand = "invalid-command";
    public const string VmBusy = "vm-busy";
}
