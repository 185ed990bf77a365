using System.Net;
using System.Net.Http.Json;
using Marten;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orchestrator.Contracts;
using Orchestrator.Api;
using Orchestrator.Hosting;
using Orchestrator.ReadModels.Attention;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workflows.Admission;
using Orchestrator.Workflows.Migration;
using Orchestrator.Workflows.Outbox;
using Orchestrator.Workflows.Timers;

namespace Orchestrator.Tests;

/// <summary>
/// Poison isolation on the real RabbitMQ: the queue of one target host refuses every delivery (someone declared it with
/// other settings, so RabbitMQ answers PRECONDITION_FAILED to each send). The commands for that host are set aside as
/// dead letters, the migration that needed them ends at once with a reason that names the host and where the VM runs,
/// and fifty migrations running beside it between healthy hosts all complete. Timeouts are minutes long here: only the
/// dead letters can end the poisoned migration within the test. The broken queue is only ever tried on the outbox's own
/// connection: RabbitMQ's refusal closes the channel a send came on, and with the channel all transitions share it would
/// take their sends in flight along.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_a_delivery_is_poisoned : IAsyncLifetime
{
    const string Source = "poison-a";
    const string Healthy = "poison-b";
    const string Broken = "poison-p";
    const int Valid = 50;

    RabbitVhost _vhost = null!;
    readonly TestSchema _schema = TestSchema.Create("poisoned");
    OrchestratorSettings _settings = null!;
    IHost _serve = null!;
    IHost _worker = null!;

    IDocumentStore Store => _serve.Services.GetRequiredService<IDocumentStore>();

    /// <summary>Every destination the main bus (the channel all transitions share) sent to.</summary>
    readonly SentTo _sharedChannel = new();

    public async ValueTask InitializeAsync()
    {
        _vhost = await RabbitVhost.Create("poison");
        var rabbit = _vhost.ConnectionString;
        _settings = new OrchestratorSettings(TestServices.Postgres, rabbit, _schema.Name);
        await using (var amqp = await PlainAmqpClient.ConnectAsync(rabbit))
            await amqp.DeclareTransientQueue(QueueNames.Worker(HypervisorKinds.Sim, Broken));

        var serve = Host.CreateApplicationBuilder();
        serve.Services.AddEventStore(_settings).AddBus(_settings, new BusOptions
        {
            Workflows = true,
            ConfigureAdmission = limits => (limits.MaxOutboundPerHost, limits.MaxInboundPerHost, limits.MaxPerCluster) = (100, 100, 100),
            ConfigureTimeouts = timeouts => (timeouts.Prepare, timeouts.Rollback) = (TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(5)),
        });
        _serve = serve.Build();
        var worker = Host.CreateApplicationBuilder();
        worker.Services.AddBus(_settings, new BusOptions { WorkerHosts = [Source, Healthy], ConfigureSim = sim => sim.RealTimeFactor = 0.001 });
        _worker = worker.Build();
        _serve.Services.GetRequiredService<IBus>().ConnectSendObserver(_sharedChannel);
        await _serve.StartAsync();
        await _worker.StartAsync();
    }

    [Fact]
    public async Task Should_end_the_poisoned_migration_with_the_reason_and_let_the_others_complete()
    {
        var poisoned = Command("vm-poisoned", Broken);
        var valid = Enumerable.Range(0, Valid).Select(i => Command($"vm-valid-{i}", Healthy)).ToList();
        var intake = await _serve.Services.GetRequiredService<IBus>().GetSendEndpoint(new Uri($"queue:{QueueNames.StartMigration}"));

        await intake.Send(poisoned);
        await Task.WhenAll(valid.Select(command => intake.Send(command)));

        MigrationSummary?[] ends;
        try
        {
            ends = await Task.WhenAll(valid.Select(command => Eventually.Get(() => Summary(command.MigrationId), s => s is { IsTerminal: true },
                $"migration {command.VmId} to end", TimeSpan.FromSeconds(120))));
        }
        catch (TimeoutException timeout)
        {
            throw new TimeoutException($"{timeout.Message}\n{await Diagnose(valid)}", timeout);
        }
        ends.Select(s => s!.State).ShouldAllBe(state => state == MigrationStates.Completed);

        // Two commands are set aside in turn (prepare, then the rollback's destroy), each after its bounded attempts.
        var summary = await Eventually.Get(() => Summary(poisoned.MigrationId), s => s is { IsTerminal: true }, "the poisoned migration to end",
            TimeSpan.FromSeconds(180));
        summary!.State.ShouldBe(MigrationStates.RolledBack);
        summary.Reason.ShouldNotBeNull().ShouldContain($"could not be delivered to the target host {Broken}");
        summary.Reason.ShouldContain($"the VM runs on its source {Source}");
        summary.RunningOn.ShouldBe(Source);
        _sharedChannel.Queues.ShouldContain(QueueNames.Worker(HypervisorKinds.Sim, Healthy));
        _sharedChannel.Queues.ShouldNotContain(QueueNames.Worker(HypervisorKinds.Sim, Broken));

        await using var session = Store.QuerySession();
        var letters = await session.Query<DeadLetter>().Where(l => l.MigrationId == poisoned.MigrationId).ToListAsync();
        letters.ShouldNotBeEmpty();
        letters.ShouldAllBe(l => l.Source == DeadLetterSources.Outbox && l.Queue == QueueNames.Worker(HypervisorKinds.Sim, Broken)
            && l.Attempts == DeliveryFailures.MaxAttempts && l.Reason.Length > 0);
        var events = (await session.Events.FetchStreamAsync(poisoned.MigrationId)).Select(e => e.Data).ToList();
        events.OfType<MessageSetAside>().Select(e => e.MessageId).Order().ShouldBe(letters.Select(l => l.Id).Order());
        events.OfType<MessageSetAside>().ShouldAllBe(e => e.Host == Broken);
        // Nothing waits behind the poison: no outbox row is left older than a few seconds.
        var old = DateTimeOffset.UtcNow.AddSeconds(-10);
        (await session.Query<OutboxMessage>().Where(m => m.CreatedAt < old).CountAsync()).ShouldBe(0);

        // What an operator sees: the letters over HTTP, newest first, and the migration on the attention queue.
        await using var api = await ApiServer.StartAsync(_settings);
        using var viewer = api.Client(ApiRoles.Viewer);
        var page = (await viewer.GetFromJsonAsync<DeadLetterPage>($"/api/dead-letters?migrationId={poisoned.MigrationId}"))!;
        page.Total.ShouldBe(letters.Count);
        page.Items.Select(l => l.Id).ShouldBe(letters.OrderByDescending(l => l.SetAsideAt).Select(l => l.Id));
        page.Items.Select(l => l.MessageType).ShouldBe(["DestroyTarget", "PrepareTarget"]);
        (await viewer.GetAsync("/api/dead-letters?page=0")).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var entry = await Eventually.Get(async () => (await viewer.GetFromJsonAsync<List<AttentionEntry>>("/api/attention"))!
            .SingleOrDefault(e => e.MigrationId == poisoned.MigrationId), e => e?.State == MigrationStates.RolledBack,
            "the attention queue (an asynchronous projection) to show the poisoned migration's end");
        entry!.Kind.ShouldBe(AttentionKinds.DeadLetter);
        entry.Reason.ShouldContain($"DestroyTarget for {Broken} was set aside");
        entry.Reason.ShouldContain("ended RolledBack");
    }

    /// <summary>Where a migration that did not end stands: its stream, its outbox rows, and what waits in the queues.</summary>
    async Task<string> Diagnose(IEnumerable<StartMigration> commands)
    {
        var lines = new List<string>();
        await using var session = Store.QuerySession();
        foreach (var command in commands)
        {
            if (await Summary(command.MigrationId) is { IsTerminal: true })
                continue;
            var events = await session.Events.FetchStreamAsync(command.MigrationId);
            var rows = await session.Query<OutboxMessage>().Where(m => m.MigrationId == command.MigrationId).ToListAsync();
            // What the saga itself holds: its state, its timers, its admission slot and any letter set aside for it.
            var saga = await session.LoadAsync<MigrationState>(command.MigrationId);
            var timers = await session.Query<MigrationTimer>().Where(t => t.MigrationId == command.MigrationId).ToListAsync();
            var slot = await session.LoadAsync<AdmissionSlot>(command.MigrationId);
            var letters = await session.Query<DeadLetter>().Where(l => l.MigrationId == command.MigrationId).ToListAsync();
            lines.Add($"{command.VmId}: {string.Join(",", events.Select(e => e.Data.GetType().Name))}; outbox: "
                + string.Join(",", rows.Select(r => $"{DeadLetterNotices.ShortName(r.MessageType)} to {r.Queue} ({r.Attempts} attempts)"))
                + $"; saga: {saga?.CurrentState ?? "none"}; timers: {string.Join(",", timers.Select(t => $"{t.Kind} due {t.DueAt:HH:mm:ss.fff}"))}"
                + $"; slot: {(slot is null ? "none" : slot.Active ? "active" : "queued")}; letters: {string.Join(",", letters.Select(l => $"{l.Queue}: {l.Reason}"))}");
        }
        var rabbit = _vhost.ConnectionString;
        await using var amqp = await PlainAmqpClient.ConnectAsync(rabbit);
        foreach (var queue in new[] { Source, Healthy }.Select(h => QueueNames.Worker(HypervisorKinds.Sim, h)).Append(QueueNames.MigrationSaga)
            .SelectMany(q => new[] { q, q + "_error" }))
            lines.Add($"{queue}: {await amqp.MessageCount(queue)} waiting");
        return string.Join("\n", lines);
    }

    sealed class SentTo : ISendObserver
    {
        readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _queues = new();

        public IReadOnlyCollection<string> Queues => _queues.Keys.ToList();

        public Task PreSend<T>(SendContext<T> context) where T : class
        {
            if (context.DestinationAddress?.AbsolutePath.Split('/').LastOrDefault() is { Length: > 0 } queue)
                _queues[queue] = true;
            return Task.CompletedTask;
        }

        public Task PostSend<T>(SendContext<T> context) where T : class => Task.CompletedTask;

        public Task SendFault<T>(SendContext<T> context, Exception exception) where T : class => Task.CompletedTask;
    }

    static StartMigration Command(string vm, string target) => new(NewId.NextGuid(), vm, Source, target, HypervisorKinds.Sim,
        MigrationStrategies.PreCopy, new MigrationPolicy(MaxDowntimeMs: 300, AllowPostCopy: false), "tests");

    async Task<MigrationSummary?> Summary(Guid migrationId)
    {
        await using var session = Store.QuerySession();
        return await session.Summary(migrationId);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _worker.StopAsync();
            await _serve.StopAsync();
            _worker.Dispose();
            _serve.Dispose();
        }
        finally
        {
            await _vhost.DisposeAsync();
            await _schema.DisposeAsync();
        }
    }
}
