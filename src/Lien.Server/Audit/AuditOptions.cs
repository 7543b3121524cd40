namespace Lien.Server.Audit;

/// <summary>How often each lender's audit chain head is signed (configured under <c>Lien:Audit</c>).</summary>
internal sealed class AuditOptions
{
    /// <summary>
    /// The most recent events a database writer could delete without trace are those newer than the last checkpoint:
    /// this interval bounds that window.
    /// </summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromMinutes(1);
}
