using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.Audit;

/// <summary>One state change: who, what, why, under which policy. Hash-chained per lender.</summary>
internal sealed class AuditEvent
{
    public long Id { get; set; }
    public Guid LenderId { get; set; }
    public long Seq { get; set; }
    public DateTimeOffset At { get; set; }
    public required string Actor { get; set; }
    public required string Action { get; set; }
    public required string Subject { get; set; }
    public string? Reason { get; set; }
    public string? Policy { get; set; }
    public string? Data { get; set; }
    public required string PrevHash { get; set; }
    public required string Hash { get; set; }
}

internal sealed class AuditEventConfiguration : IEntityTypeConfiguration<AuditEvent>
{
    public void Configure(EntityTypeBuilder<AuditEvent> e)
    {
        e.HasIndex(x => new { x.LenderId, x.Seq }).IsUnique();
        e.Property(x => x.Action).HasMaxLength(64);
    }
}
