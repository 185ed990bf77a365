namespace Orchestrator.Workers.Sim;

/// <summary>
/// An injected network failure: the link of a transfer of <see cref="VmId"/> (or of any transfer from or to
/// <see cref="Host"/>) drops halfway through pass <see cref="AtRound"/>, or during post-copy when
/// <see cref="DuringPostCopy"/>. Both hosts live on; the transfer fails.
/// </summary>
public sealed record SimLinkDrop(string? VmId = null, string? Host = null, int AtRound = 1, bool DuringPostCopy = false);
