namespace Orchestrator.Api;

/// <summary>
/// The API's clients (configuration section <c>Api</c>): each a name, a secret key and its roles. A key is presented as
/// <c>X-Api-Key: KEY</c> or <c>Authorization: Bearer KEY</c>. Keys come from configuration or the environment only
/// (<c>Api__Clients__0__Key</c>), never from code, and are never logged.
/// </summary>
public sealed class ApiOptions
{
    public const string Section = "Api";

    public List<ApiClient> Clients { get; set; } = [];
}
