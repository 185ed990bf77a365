using System.Reflection;
using Orchestrator.Contracts.Workers;

namespace Orchestrator.Contracts.Tests;

/// <summary>
/// Read models find an event's migration and its time through <see cref="IMigrationEvent"/>, not through a list of types
/// kept by hand: an event that carries both and forgets to say so would be read with a time that is not its own.
/// </summary>
public sealed class When_an_event_belongs_to_a_migration
{
    static readonly Type[] Messages = [.. typeof(IMigrationEvent).Assembly.GetTypes().Where(t => t is { IsClass: true, IsPublic: true })];

    static bool Carries(Type type, string name, Type memberType) => type.GetProperty(name, BindingFlags.Public | BindingFlags.Instance)?.PropertyType == memberType;

    [Fact]
    public void Should_say_so_whenever_it_carries_the_migration_and_its_own_time()
    {
        var carriers = Messages.Where(t => Carries(t, nameof(IMigrationEvent.MigrationId), typeof(Guid))
            && Carries(t, nameof(IMigrationEvent.Timestamp), typeof(DateTimeOffset))).ToList();

        carriers.ShouldContain(typeof(MigrationReconciled));
        carriers.ShouldContain(typeof(VmLocated));
        carriers.Where(t => !typeof(IMigrationEvent).IsAssignableFrom(t)).ShouldBeEmpty();
    }

    [Fact]
    public void Should_not_be_said_of_a_command_or_of_another_stream_s_event()
    {
        typeof(IMigrationEvent).IsAssignableFrom(typeof(StartMigration)).ShouldBeFalse();
        typeof(IMigrationEvent).IsAssignableFrom(typeof(HostDrainRequested)).ShouldBeFalse();
    }
}
