using System.Text.Json;
using JasperFx.Events.Daemon;
using Marten;
using Orchestrator.ReadModels.Attention;
using Orchestrator.ReadModels.Hosts;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.ReadModels.Tests;

/// <summary>Invariant 5: every projection can be rebuilt from the events alone, and the rebuild equals what was stored.</summary>
[Trait("Category", "Integration")]
public sealed class When_the_read_models_are_rebuilt : IAsyncLifetime
{
    Fleet _fleet = null!;

    public async ValueTask InitializeAsync() => _fleet = await Fleet.Projected();

    public ValueTask DisposeAsync() => _fleet.DisposeAsync();

    async Task<string> Stored<T>(Func<T, string> key)
        where T : notnull
    {
        await using var session = _fleet.Store.QuerySession();
        var documents = await session.Query<T>().ToListAsync();
        return JsonSerializer.Serialize(documents.OrderBy(key, StringComparer.Ordinal));
    }

    async Task Rebuild<TProjection>()
    {
        using var daemon = await _fleet.Store.BuildProjectionDaemonAsync();
        await daemon.RebuildProjectionAsync(typeof(TProjection), TimeSpan.FromSeconds(30), CancellationToken.None);
    }

    [Fact]
    public async Task Should_rebuild_the_host_loads_exactly_even_after_they_were_damaged()
    {
        var stored = await Stored<HostLoad>(h => h.Id);
        await using (var session = _fleet.Store.LightweightSession())
        {
            session.Store(new HostLoad { Id = "host-a", ActiveOutbound = 42 });
            session.Delete<HostLoad>("host-b");
            await session.SaveChangesAsync();
        }
        (await Stored<HostLoad>(h => h.Id)).ShouldNotBe(stored);

        await Rebuild<HostLoadProjection>();

        (await Stored<HostLoad>(h => h.Id)).ShouldBe(stored);
        stored.ShouldContain("host-c");
    }

    [Fact]
    public async Task Should_rebuild_the_attention_documents_exactly()
    {
        var stored = await Stored<MigrationAttention>(a => a.Id.ToString());
        await using (var session = _fleet.Store.LightweightSession())
        {
            session.Delete<MigrationAttention>(_fleet.VmLost);
            await session.SaveChangesAsync();
        }

        await Rebuild<AttentionProjection>();

        (await Stored<MigrationAttention>(a => a.Id.ToString())).ShouldBe(stored);
        stored.ShouldContain(_fleet.VmLost.ToString());
    }

    [Fact]
    public async Task Should_rebuild_the_inline_summaries_exactly()
    {
        var stored = await Stored<MigrationSummary>(s => s.Id.ToString());
        await using (var session = _fleet.Store.LightweightSession())
        {
            session.Delete<MigrationSummary>(_fleet.Completed1);
            await session.SaveChangesAsync();
        }

        await Rebuild<MigrationSummaryProjection>();

        (await Stored<MigrationSummary>(s => s.Id.ToString())).ShouldBe(stored);
        stored.ShouldContain(_fleet.Completed1.ToString());
    }

    [Fact]
    public async Task Should_rebuild_the_summaries_in_one_ordered_pass_as_the_daemon_does()
    {
        var stored = await Stored<MigrationSummary>(s => s.Id.ToString());
        await using (var session = _fleet.Store.LightweightSession())
        {
            session.Delete<MigrationSummary>(_fleet.Completed1);
            session.Store(new MigrationSummary { Id = _fleet.VmLost, State = MigrationStates.Completed, VmId = "damaged" });
            session.Store(new MigrationSummary { Id = Guid.NewGuid(), State = MigrationStates.Completed, VmId = "no-stream" });
            await session.SaveChangesAsync();
        }

        var written = await SummaryRebuild.Run(_fleet.Store);

        (await Stored<MigrationSummary>(s => s.Id.ToString())).ShouldBe(stored);
        written.ShouldBe(JsonDocument.Parse(stored).RootElement.GetArrayLength());
        stored.ShouldContain(_fleet.Completed1.ToString());
    }
}
