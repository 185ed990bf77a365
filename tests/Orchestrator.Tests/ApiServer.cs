using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Orchestrator.Api;
using Orchestrator.Hosting;

namespace Orchestrator.Tests;

/// <summary>The serve role's HTTP API on a real Kestrel port, in front of the shared orchestrator's database and bus.</summary>
public sealed class ApiServer : IAsyncDisposable
{
    public static readonly Dictionary<string, string> Keys = new()
    {
        [ApiRoles.Operator] = "key-operator-0123456789",
        [ApiRoles.Auditor] = "key-auditor-0123456789",
        [ApiRoles.Viewer] = "key-viewer-0123456789",
        [ApiRoles.Service] = "key-service-0123456789",
    };

    readonly WebApplication _app;

    ApiServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    public static async Task<ApiServer> StartAsync(OrchestratorSettings settings)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var clients = Keys.Select((pair, i) => new KeyValuePair<string, string?>[]
        {
            new($"Api:Clients:{i}:Name", $"{pair.Key}-client"),
            new($"Api:Clients:{i}:Key", pair.Value),
            new($"Api:Clients:{i}:Roles:0", pair.Key),
        }).SelectMany(x => x);
        builder.Configuration.AddInMemoryCollection(clients);
        builder.Services.AddEventStore(settings).AddBus(settings, new BusOptions()).AddOrchestratorApi();
        var app = builder.Build();
        app.UseOrchestratorApi();
        await app.StartAsync();
        return new ApiServer(app, new Uri(app.Urls.First()));
    }

    public HttpClient Client(string? role = null, string? key = null)
    {
        var client = new HttpClient { BaseAddress = Address };
        var presented = key ?? (role is null ? null : Keys[role]);
        if (presented is not null)
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", presented);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
