using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.Audit;

/// <summary>
/// One state change: who, what, why, under which policy. Written with its <see cref="Mac"/> in the change's own
/// transaction, and chained per lender afterwards by <see cref="AuditSequencer"/> (<see cref="Seq"/>,
/// <see cref="PrevHash"/> and <see cref="Hash"/> are null until then).
/// </summary>
internal sealed class AuditEvent
{
    public long Id { get; set; }
    public Guid LenderId { get; set; }

    /// <summary>
    /// The event's own identity, covered by its MAC: a copied row is a second event with the same one, and is refused.
    /// Null, as <see cref="Mac"/> is, on events written before the chain was built after commit.
    /// </summary>
    public Guid? EventId { get; set; }

    public long? Seq { get; set; }
    public DateTimeOffset At { get; set; }
    public required string Actor { get; set; }
    public required string Action { get; set; }
    public required string Subject { get; set; }
    public string? Reason { get; set; }
    public string? Policy { get; set; }
    public string? Data { get; set; }

    /// <summary>The keyed MAC of what the event says (<see cref="AuditChain.MacOf"/>); null on events written before the chain was built after commit.</summary>
    public string? Mac { get; set; }

    public string? PrevHash { get; set; }
    public string? Hash { get; set; }

    /// <summary>
    /// PostgreSQL only: the id of the transaction that inserted the event (a shadow column, filled by the database), by
    /// which <see cref="AuditSequencer"/> knows when no transaction still running can add an event that comes before it.
    /// </summary>
    public const string Xid = "Xid";

    public static void ConfigurePostgres(EntityTypeBuilder<AuditEvent> e) =>
        e.Property<long?>(Xid).HasDefaultValueSql("pg_current_xact_id()::text::bigint");
}

internal sealed class AuditEventConfiguration : IEntityTypeConfiguration<AuditEvent>
{
    public void Configure(EntityTypeBuilder<AuditEvent> e)
    {
        e.HasIndex(x => new { x.LenderId, x.Seq }).IsUnique();
        e.HasIndex(x => x.EventId).IsUnique();
        // The events not yet chained: what the sequencer reads each time, a handful among millions.
        e.HasIndex(x => x.Id).HasFilter("\"Seq\" IS NULL").HasDatabaseName("IX_AuditEvents_Unsequenced");
        e.Property(x => x.Action).HasMaxLength(64);
        e.Property(x => x.Mac).HasMaxLength(64);
    }
}
