using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace Orchestrator.Cli;

/// <summary>
/// The operator commands' way in: the HTTP API of <c>orchestrator serve</c>, with the configured key. Where it is and the
/// key come from <c>--api</c>, the environment (<c>ORCHESTRATOR_API</c>, <c>ORCHESTRATOR_API_KEY</c>) or configuration
/// (<c>Cli:Api</c>, <c>Cli:ApiKey</c>). Every failure becomes a <see cref="CliError"/> that says what to do.
/// </summary>
public sealed class OrchestratorApiClient : IDisposable
{
    public const string DefaultAddress = "http://127.0.0.1:5080";
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    readonly HttpClient _http;

    OrchestratorApiClient(HttpClient http) => _http = http;

    public Uri Address => _http.BaseAddress!;

    public static OrchestratorApiClient Create(string? address)
    {
        var configuration = Hosting.OrchestratorSettings.LoadConfiguration();
        var url = address ?? configuration["ORCHESTRATOR_API"] ?? configuration["Cli:Api"] ?? DefaultAddress;
        var key = configuration["ORCHESTRATOR_API_KEY"] ?? configuration["Cli:ApiKey"];
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new CliError(ExitCodes.Usage, $"'{url}' is not an http(s) address of the orchestrator API.");
        var http = new HttpClient { BaseAddress = uri, Timeout = TimeSpan.FromSeconds(30) };
        if (!string.IsNullOrEmpty(key))
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return new OrchestratorApiClient(http);
    }

    public Task<JsonElement> Get(string path, CancellationToken cancellationToken) => Send(HttpMethod.Get, path, null, cancellationToken);

    public Task<JsonElement> Post(string path, object? body, CancellationToken cancellationToken) => Send(HttpMethod.Post, path, body, cancellationToken);

    public async Task<T> Get<T>(string path, CancellationToken cancellationToken) =>
        (await Get(path, cancellationToken)).Deserialize<T>(Json)!;

    async Task<JsonElement> Send(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body, options: Json) };
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException exception) when (exception.InnerException is SocketException || exception.HttpRequestError == HttpRequestError.ConnectionError)
        {
            throw new CliError(ExitCodes.Unreachable, $"Cannot reach the orchestrator API at {Address}: is 'orchestrator serve' running there? "
                + "Point the CLI at it with --api URL or ORCHESTRATOR_API.");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliError(ExitCodes.Unreachable, $"The orchestrator API at {Address} did not answer within {_http.Timeout.TotalSeconds:0} s.");
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.IsSuccessStatusCode)
                return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
            throw response.StatusCode switch
            {
                HttpStatusCode.Unauthorized => new CliError(ExitCodes.NotAllowed,
                    "The orchestrator API did not accept the credentials: set ORCHESTRATOR_API_KEY to a key from the serve role's Api:Clients."),
                HttpStatusCode.Forbidden => new CliError(ExitCodes.NotAllowed,
                    $"The role of your API key may not {method.Method} {path}: ask for an operator key (auditors and viewers may only read)."),
                HttpStatusCode.NotFound => new CliError(ExitCodes.NotFound, Problem(text) ?? $"Nothing at {path}."),
                HttpStatusCode.BadRequest or HttpStatusCode.Conflict => new CliError(ExitCodes.Refused, Problem(text) ?? $"Refused: {text}"),
                HttpStatusCode.ServiceUnavailable => new CliError(ExitCodes.Unreachable,
                    $"The orchestrator API at {Address} answered 503: {Problem(text) ?? "its database is unreachable; try again in a few seconds."}"),
                _ => new CliError(ExitCodes.Internal, $"The orchestrator API answered {(int)response.StatusCode} {response.ReasonPhrase}: {Problem(text) ?? text} See serve's log."),
            };
        }
    }

    /// <summary>The words of an RFC 7807 problem: its title, its detail and each field's reasons.</summary>
    static string? Problem(string text)
    {
        try
        {
            var problem = JsonDocument.Parse(text).RootElement;
            var parts = new List<string>();
            if (problem.TryGetProperty("title", out var title))
                parts.Add(title.GetString()!);
            if (problem.TryGetProperty("detail", out var detail))
                parts.Add(detail.GetString()!);
            if (problem.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
                parts.AddRange(errors.EnumerateObject().Select(e => $"{e.Name}: {string.Join(" ", e.Value.EnumerateArray().Select(v => v.GetString()))}"));
            return parts.Count == 0 ? null : string.Join(" ", parts);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Dispose() => _http.Dispose();
}
