namespace Orchestrator.Api;

/// <summary>One API client: its name is the principal recorded with every command it sends.</summary>
public sealed class ApiClient
{
    public string Name { get; set; } = string.Empty;

    public string Key { get; set; } = string.Empty;

    public List<string> Roles { get; set; } = [];
}
