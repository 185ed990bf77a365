using JasperFx.Events;
using Marten;

namespace Orchestrator.ReadModels.Audit;

/// <summary>
/// Stamps every event appended through any session with its place in its stream's hash chain, just before the
/// session commits. The previous hash comes from the stream's last stored event; two sessions racing on one stream
/// cannot both commit (the migration saga's optimistic concurrency), so the chain stays linear.
/// </summary>
public sealed class HashChainListener : DocumentSessionListenerBase
{
    public override async Task BeforeSaveChangesAsync(IDocumentSession session, CancellationToken token)
    {
        var serializer = session.DocumentStore.Options.Serializer();
        foreach (var stream in session.PendingChanges.Streams())
        {
            var (previous, version) = await Head(session, stream.Id, token);
            foreach (var e in stream.Events)
            {
                version++;
                var hash = HashChain.Compute(previous, stream.Id, version, e.EventTypeName, serializer.ToJson(e.Data));
                e.SetHeader(HashChain.PreviousHashHeader, previous);
                e.SetHeader(HashChain.HashHeader, hash);
                previous = hash;
            }
        }
    }

    static async Task<(string Hash, long Version)> Head(IDocumentSession session, Guid streamId, CancellationToken token)
    {
        var state = await session.Events.FetchStreamStateAsync(streamId, token);
        if (state is null || state.Version == 0)
            return (HashChain.Genesis, 0);
        var last = (await session.Events.FetchStreamAsync(streamId, fromVersion: state.Version, token: token)).LastOrDefault();
        return (last?.GetHeader(HashChain.HashHeader)?.ToString() ?? HashChain.Genesis, state.Version);
    }
}
