using MassTransit;
using Microsoft.Extensions.Logging;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workers.Drivers;

namespace Orchestrator.Workers.Consumers;

/// <summary>
/// The truth query: reports what this host's hypervisor knows of the VM. A hypervisor that cannot be asked is reported
/// as <see cref="VmPresences.Unknown"/> with its error, never guessed.
/// </summary>
public sealed class LocateVmConsumer(IHypervisorDriver driver, EpochFence fence, ILogger<LocateVmConsumer> logger)
    : WorkerCommandConsumer<LocateVm>(fence, logger)
{
    protected override string Step => MigrationSteps.Locate;

    protected override async Task<object?> Run(ConsumeContext<LocateVm> context)
    {
        var command = context.Message;
        VmInspection inspection;
        try
        {
            inspection = await driver.InspectAsync(command.VmId, command.Host, context.CancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            inspection = new VmInspection(VmPresences.Unknown, $"{driver.Kind} on {command.Host} could not be asked: {exception.Message}");
        }

        return new VmLocated(command.MigrationId, command.Host, command.VmId, inspection.Presence, inspection.Detail, DateTimeOffset.UtcNow, command.Epoch);
    }
}
