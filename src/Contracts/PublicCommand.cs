namespace Orchestrator.Contracts;

/// <summary>
/// A command other services may send: its type, the exchange (and queue) of the same name it goes to, and the
/// <see cref="SchemaVersion"/> this release reads. See <see cref="PublicContract"/>.
/// </summary>
public sealed record PublicCommand(Type Type, string Exchange, int SchemaVersion);
