using System.Net;
using Microsoft.Playwright;
using Orchestrator.Api;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workers.Sim;

namespace Orchestrator.Tests;

/// <summary>
/// The dashboard in a real browser (Playwright driving Debian's chromium, headless) against serve and a sim worker as
/// processes: a wrong key is refused, the right one signs in, a migration started meanwhile appears and advances
/// without a reload, and its page's chart gains a point per pre-copy round as the rounds happen, ending with the
/// history's verdict.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_an_operator_watches_the_dashboard : IAsyncLifetime
{
    const string Key = "key-dashboard-operator";
    const string Chromium = "/usr/bin/chromium";
    ChaosRig _rig = null!;

    public async ValueTask InitializeAsync() => _rig = await ChaosRig.Create("dashboard");

    public async ValueTask DisposeAsync() => await _rig.DisposeAsync();

    [Fact]
    public async Task Should_sign_in_and_follow_a_migration_live()
    {
        var environment = _rig.Environment(4);
        environment["Api__Clients__0__Name"] = "dashboard-operator";
        environment["Api__Clients__0__Key"] = Key;
        environment["Api__Clients__0__Roles__0"] = ApiRoles.Operator;
        var port = PrivateService.FreePort();
        using var worker = OrchestratorProcess.Start(environment, "worker", "--driver", "sim", "--host", "ui-a", "--host", "ui-b", "--real-time-factor", "0.2");
        using var serve = OrchestratorProcess.Start(environment, "serve", "--urls", $"http://127.0.0.1:{port}");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        await Eventually.Get(() => HttpProbe.Status(http, "/health/ready"), s => s == HttpStatusCode.OK, "serve to be ready", TimeSpan.FromSeconds(90));

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
        });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        await page.GotoAsync($"http://127.0.0.1:{port}/ui");

        await page.FillAsync("#key", "not-the-key");
        await page.ClickAsync("#sign-in-form button");
        await Assertions.Expect(page.Locator("#sign-in-error")).ToHaveTextAsync("That key is not accepted.");
        await page.FillAsync("#key", Key);
        await page.ClickAsync("#sign-in-form button");
        await Assertions.Expect(page.Locator("#overview")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#live")).ToHaveTextAsync("● live");

        // Started after the page loaded: only the live stream can bring it. An 8 GiB VM that dirties little, at twice its
        // dirty rate and a half-second limit: a first pass of seconds, then rounds.
        var vm = Enumerable.Range(0, 500).Select(i => SimVm.FromId($"vm-ui-{i}")).First(v => v.MemoryBytes == 8L << 30 && v.DirtyRateBytesPerSecond <= 50L << 20);
        var id = Guid.NewGuid();
        await using (var client = await PlainAmqpClient.ConnectAsync(_rig.Settings.RabbitMq))
        {
            await _rig.WaitForQueues(client, "ui-b");
            await ChaosRig.Start(client, id, vm.VmId, "ui-a", "ui-b", bandwidthMiBps: (int)(2 * vm.DirtyRateBytesPerSecond >> 20), maxDowntimeMs: 500);
        }
        var row = page.Locator($"#migrations tr[data-id='{id}']");
        await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync(MigrationStates.PreCopying, new() { Timeout = 60_000 });

        await row.ClickAsync();
        await Assertions.Expect(page.Locator("#detail")).ToBeVisibleAsync();
        var chart = page.Locator("#rounds");
        // Opened during the first pass: no round yet, then the rounds arrive while the page stays open.
        (await chart.GetAttributeAsync("data-points")).ShouldBe("0");
        await Assertions.Expect(chart).Not.ToHaveAttributeAsync("data-points", "0", new() { Timeout = 60_000 });
        await page.ScreenshotAsync(new() { Path = Path.Combine(AppContext.BaseDirectory, "dashboard-mid-migration.png"), FullPage = true });
        await Assertions.Expect(page.Locator("#detail-summary")).ToContainTextAsync(MigrationStates.Completed, new() { Timeout = 90_000 });
        await Assertions.Expect(page.Locator("#verdict")).ToContainTextAsync("intact", new() { Timeout = 30_000 });

        var summary = (await _rig.Summaries([id])).Single();
        summary.State.ShouldBe(MigrationStates.Completed);
        (await chart.GetAttributeAsync("data-points")).ShouldBe(summary.Rounds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        summary.Rounds.ShouldBeGreaterThan(1);
        await Assertions.Expect(page.Locator("#timeline li")).ToHaveCountAsync((int)summary.LastEventVersion);
    }
}
