namespace Orchestrator.Contracts;

/// <summary>
/// An integration event other services may bind to: its type, its <see cref="Name"/> (the routing key on
/// <see cref="PublicContract.EventsExchange"/>, e.g. <c>migration.completed</c>) and the <see cref="SchemaVersion"/> this
/// release writes. Its CloudEvents type is <c>orchestrator.</c><see cref="Name"/><c>.v</c><see cref="SchemaVersion"/>.
/// See <see cref="PublicContract"/>.
/// </summary>
public sealed record PublicEvent(Type Type, string Name, int SchemaVersion)
{
    public string CloudEventType => $"orchestrator.{Name}.v{SchemaVersion}";
}
