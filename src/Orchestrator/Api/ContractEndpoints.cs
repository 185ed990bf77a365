using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Orchestrator.Api;

/// <summary>
/// The bus contract, for anyone who integrates: <c>GET /asyncapi.json</c> serves docs/asyncapi.json (AsyncAPI 3.0, built
/// into the executable), anonymously like the documentation it is. It is no part of the HTTP API's OpenAPI description.
/// </summary>
public static class ContractEndpoints
{
    static readonly byte[] AsyncApi = Read("asyncapi.json");

    public static void MapContractDocuments(this IEndpointRouteBuilder app) =>
        app.MapGet("/asyncapi.json", () => Results.Bytes(AsyncApi, "application/json")).AllowAnonymous().ExcludeFromDescription();

    static byte[] Read(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"{name} is not built into the executable");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
