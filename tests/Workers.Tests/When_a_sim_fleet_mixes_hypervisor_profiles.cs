using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workers.Drivers;
using Orchestrator.Workers.Sim;

namespace Orchestrator.Workers.Tests;

public sealed class When_a_sim_fleet_mixes_hypervisor_profiles
{
    const long MiB = 1024 * 1024;
    const long GiB = 1024 * MiB;
    readonly SimulatedFleet _fleet = new();
    readonly SimOptions _options = new();

    SimDriver Driver => new(_fleet, Options.Create(_options));

    async Task<RecordingObserver> Migrate(string vm, string source, string target, bool autoConverge = false, int bandwidthMiBps = 1024)
    {
        var id = Guid.NewGuid();
        var observer = new RecordingObserver();
        var driver = Driver;
        _fleet.Place(vm, source);
        await driver.PrepareTargetAsync(new PrepareTarget(id, 1, vm, source, target, HypervisorKinds.Sim), CancellationToken.None);
        await driver.MigrateAsync(new BeginTransfer(id, 1, vm, source, target, MigrationStrategies.PreCopy, 300, bandwidthMiBps, autoConverge), observer,
            CancellationToken.None);
        return observer;
    }

    [Fact]
    public async Task Should_take_the_vms_profile_else_its_hosts_else_the_workers()
    {
        _options.Profile = SimProfiles.EsxiName;
        _options.HostProfiles["xen-1"] = SimProfiles.XenName;
        _options.Vms["vm-own"] = new SimVm("vm-own", 1 * GiB, 16 * MiB, 8 * MiB) { Profile = SimProfiles.HyperVName };
        _options.Vms["vm-plain"] = new SimVm("vm-plain", 1 * GiB, 16 * MiB, 8 * MiB);

        var onXenHost = await Migrate("vm-plain", "xen-1", "xen-2");
        var onOtherHost = await Migrate("vm-plain", "esx-1", "esx-2");
        var ownProfile = await Migrate("vm-own", "xen-1", "xen-2");

        // Xen starts at 50 Mbit/s; ESXi sends at the cap; Hyper-V's compression carries twice the memory per second.
        onXenHost.Passes[0].BandwidthBytesPerSecond.ShouldBe(50_000_000 / 8);
        onOtherHost.Passes[0].BandwidthBytesPerSecond.ShouldBe(1024 * MiB);
        ownProfile.Passes[0].BandwidthBytesPerSecond.ShouldBe(1536 * MiB);
    }

    [Fact]
    public async Task Should_let_esxi_slow_a_guest_that_outruns_the_link_by_itself_when_auto_converge_is_allowed()
    {
        _options.Vms["vm-hot"] = new SimVm("vm-hot", 1 * GiB, 512 * MiB, 400 * MiB);
        _options.HostProfiles["esx-1"] = SimProfiles.EsxiName;
        _options.HostProfiles["kvm-1"] = SimProfiles.GenericName;

        var esxi = await Migrate("vm-hot", "esx-1", "esx-2", autoConverge: true, bandwidthMiBps: 200);
        var generic = await Migrate("vm-hot", "kvm-1", "kvm-2", autoConverge: true, bandwidthMiBps: 200);

        esxi.Passes.Select(p => p.ThrottlePercent).Max().ShouldBeGreaterThanOrEqualTo(20);
        esxi.DowntimeMs.ShouldNotBeNull().ShouldBeLessThanOrEqualTo(300);
        // Without its own auto-converge the hypervisor leaves throttling to the orchestrator.
        generic.Passes.ShouldAllBe(p => p.ThrottlePercent == 0);
        generic.DowntimeMs.ShouldNotBeNull().ShouldBeGreaterThan(300);
    }

    [Fact]
    public void Should_send_fewer_wire_bytes_through_hyper_v_compression()
    {
        var vm = new SimVm("vm-web", 2 * GiB, 64 * MiB, 20 * MiB);

        var generic = PreCopyModel.Simulate(vm, SimProfiles.Generic, 100 * MiB, 300, seed: 1);
        var hyperV = PreCopyModel.Simulate(vm, SimProfiles.HyperV, 100 * MiB, 300, seed: 1);

        hyperV.WireBytes.ShouldBeLessThan(generic.WireBytes * 6 / 10);
        hyperV.TotalSeconds.ShouldBeLessThan(generic.TotalSeconds * 6 / 10);
    }

    [Fact]
    public void Should_stop_esxi_at_its_500_ms_switchover_goal_even_under_a_looser_limit()
    {
        var vm = new SimVm("vm-db", 2 * GiB, 512 * MiB, 60 * MiB);

        var generic = PreCopyModel.Simulate(vm, SimProfiles.Generic, 100 * MiB, maxDowntimeMs: 5000, seed: 1);
        var esxi = PreCopyModel.Simulate(vm, SimProfiles.Esxi, 100 * MiB, maxDowntimeMs: 5000, seed: 1);

        generic.DowntimeMs.ShouldBeGreaterThan(500);
        esxi.DowntimeMs.ShouldBeLessThanOrEqualTo(500);
        esxi.Passes.Count.ShouldBeGreaterThan(generic.Passes.Count);
    }

    [Fact]
    public void Should_name_the_known_profiles_when_given_an_unknown_one()
    {
        var error = Should.Throw<ArgumentException>(() => _options.Named("vmware"));

        error.Message.ShouldContain("'vmware'");
        error.Message.ShouldContain("generic, xen, esxi, hyperv");
    }

    [Fact]
    public void Should_read_profiles_per_host_and_redefined_profiles_from_configuration()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Sim:Profile"] = "xen",
            ["Sim:HostProfiles:esx-1"] = "esxi",
            ["Sim:Profiles:hyperv:CompressionRatio"] = "3",
        }).Build();
        using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddSimDriver().BuildServiceProvider();

        var options = services.GetRequiredService<IOptions<SimOptions>>().Value;

        options.Profile.ShouldBe(SimProfiles.XenName);
        options.ProfileFor(new SimVm("a", GiB, MiB, MiB), "esx-1").ShouldBe(SimProfiles.Esxi);
        options.ProfileFor(new SimVm("a", GiB, MiB, MiB), "other").ShouldBe(SimProfiles.Xen);
        options.Named("hyperv").CompressionRatio.ShouldBe(3);
    }

    [Fact]
    public void Should_refuse_a_configured_profile_it_does_not_know()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Sim:HostProfiles:h"] = "vmware" }).Build();
        using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddSimDriver().BuildServiceProvider();

        Should.Throw<OptionsValidationException>(() => services.GetRequiredService<IOptions<SimOptions>>().Value).Message.ShouldContain("unknown");
    }
}
