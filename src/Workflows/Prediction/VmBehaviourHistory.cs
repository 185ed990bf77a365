namespace Orchestrator.Workflows.Prediction;

/// <summary>
/// What the predictor keeps per VM (document id: the VM's id): the dirtying fitted to each of its latest migrations'
/// pre-copy rounds, oldest first, at most <see cref="Kept"/>.
/// </summary>
public sealed class VmBehaviourHistory
{
    public const int Kept = 8;

    public string Id { get; set; } = string.Empty;

    public List<VmBehaviourSample> Samples { get; set; } = [];

    /// <summary>The samples' behaviours averaged with decaying weights (<see cref="VmHistory.Decay"/>): the latest weighs most.</summary>
    public DirtyBehaviour? Behaviour() => DirtyBehaviour.Combine(
        [.. Samples.Select((s, i) => (s.Behaviour, Math.Pow(VmHistory.Decay, Samples.Count - 1 - i)))]);

    /// <summary>Adds a migration's fit, once per migration, dropping the oldest beyond <see cref="Kept"/>.</summary>
    public void Add(VmBehaviourSample sample)
    {
        if (Samples.Any(s => s.MigrationId == sample.MigrationId))
            return;
        Samples.Add(sample);
        if (Samples.Count > Kept)
            Samples.RemoveRange(0, Samples.Count - Kept);
    }
}
