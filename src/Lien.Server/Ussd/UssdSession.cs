using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.Ussd;

/// <summary>
/// Where one USSD session stands, in the database so it survives a restart and serves from any node: the menu it is at,
/// the plan chosen, how many of Africa's Talking's <c>*</c>-joined inputs were already taken, the last answer (a repeated
/// request gets it again) and when it expires (sessions last about 180 s; a later request starts over).
/// </summary>
internal sealed class UssdSession
{
    /// <summary>Africa's Talking's <c>sessionId</c>.</summary>
    public required string Id { get; set; }

    /// <summary>The dialling number, E.164.</summary>
    public required string Phone { get; set; }
    public Guid? PlanId { get; set; }
    public required string State { get; set; }
    public int Consumed { get; set; }
    public required string Reply { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
}

internal sealed class UssdSessionConfiguration : IEntityTypeConfiguration<UssdSession>
{
    public void Configure(EntityTypeBuilder<UssdSession> e)
    {
        e.Property(x => x.Id).HasMaxLength(100);
        e.Property(x => x.Phone).HasMaxLength(16);
        e.Property(x => x.State).HasMaxLength(32);
        e.Property(x => x.Reply).HasMaxLength(400);
        e.HasIndex(x => new { x.Phone, x.ExpiresAt });
    }
}
