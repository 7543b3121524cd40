namespace Lien.Server.Audit;

/// <summary>How each lender's audit chain is built and signed (configured under <c>Lien:Audit</c>).</summary>
internal sealed class AuditOptions
{
    /// <summary>
    /// The most recent events a database writer could delete without trace are those newer than the last checkpoint:
    /// this interval bounds that window.
    /// </summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long the sequencer waits for a commit to wake it before it looks for unchained events anyway.</summary>
    public TimeSpan SequencerInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The most events the sequencer chains in one transaction.</summary>
    public int SequencerBatch { get; set; } = 1000;

    /// <summary>
    /// How long a reader of the chain (the listing, verification, a checkpoint) waits for events already committed to be
    /// chained; only a transaction left open that long (the events wait for every transaction begun before theirs) makes
    /// it give up and read the chain as it is.
    /// </summary>
    public TimeSpan CatchUpTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
