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

    /// <summary>
    /// What a first pass sends, from the samples that reported it, with the same decaying weights (a mean of the
    /// logarithms); null when none did: the forecast then sends all the memory first.
    /// </summary>
    public long? FirstPassBytes()
    {
        var known = Samples.Select((s, i) => (s.FirstPassBytes, Weight: Math.Pow(VmHistory.Decay, Samples.Count - 1 - i)))
            .Where(s => s.FirstPassBytes > 0).ToList();
        if (known.Count == 0)
            return null;
        var mean = known.Sum(s => s.Weight * Math.Log(s.FirstPassBytes!.Value)) / known.Sum(s => s.Weight);
        return (long)Math.Exp(mean);
    }

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
