namespace Orchestrator.Api;

/// <summary>Who may do what through the HTTP API.</summary>
public static class ApiRoles
{
    /// <summary>People who run migrations: every command and every read.</summary>
    public const string Operator = "operator";

    /// <summary>Auditors: reads, histories and (later) verification and export; no commands.</summary>
    public const string Auditor = "auditor";

    /// <summary>Read-only dashboards and people.</summary>
    public const string Viewer = "viewer";

    /// <summary>Other services acting on their own behalf: commands and reads.</summary>
    public const string Service = "service";

    public const string CommandsPolicy = "commands";
    public const string ReadPolicy = "read";
    public const string HistoryPolicy = "history";

    /// <summary>Recovery and drains act on hosts past a single migration's own decisions: operators only.</summary>
    public const string OperatorsOnlyPolicy = "operators-only";
}
