using Marten;
using MassTransit;
using MassTransit.Configuration;
using MassTransit.Saga;

namespace Orchestrator.Workflows.Persistence;

public static class MartenSagaRepositoryExtensions
{
    /// <summary>Persists the saga as a Marten document (MassTransit.Marten is not available for MassTransit 8 here).</summary>
    public static ISagaRegistrationConfigurator<T> MartenRepository<T>(this ISagaRegistrationConfigurator<T> configurator)
        where T : class, ISaga
    {
        configurator.Repository(x =>
        {
            x.RegisterSagaRepository<T, IDocumentSession, SagaConsumeContextFactory<IDocumentSession, T>, MartenSagaRepositoryContextFactory<T>>();
            x.RegisterLoadSagaRepository<T, MartenSagaRepositoryContextFactory<T>>();
            x.RegisterQuerySagaRepository<T, MartenSagaRepositoryContextFactory<T>>();
        });
        return configurator;
    }
}
