namespace Orchestrator.Tests;

/// <summary>
/// A GET that tells "not listening yet" from an answer: a serve process declares its queues before Kestrel listens, so
/// a test that waits for the queues must wait for the HTTP port too.
/// </summary>
public static class HttpProbe
{
    /// <summary>The status <paramref name="path"/> answers with, or null while nothing listens on the port.</summary>
    public static async Task<System.Net.HttpStatusCode?> Status(HttpClient client, string path)
    {
        try
        {
            using var response = await client.GetAsync(path);
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }
}
