using Orchestrator.Contracts;

namespace Orchestrator.Workflows.Intake;

static class SagaAddress
{
    public static readonly Uri Uri = new($"queue:{QueueNames.MigrationSaga}");
}
