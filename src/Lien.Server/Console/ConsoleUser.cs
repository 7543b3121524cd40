using Lien.Server.Lenders;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.Console;

/// <summary>What a console user may do; each role may do everything the one before it may, and more.</summary>
internal enum ConsoleRole
{
    /// <summary>Reads every page of its lender; acts on nothing.</summary>
    Viewer,
    /// <summary>A call centre agent: records promises-to-pay and issues offline codes; never locks, unlocks or releases.</summary>
    Collections,
    /// <summary>Runs the portfolio: every action on devices and plans, imports.</summary>
    Operator,
    /// <summary>Also the lender's settings, API keys, webhooks and users.</summary>
    Admin,
}

/// <summary>A lender's staff member with a console login (ASP.NET Core Identity): belongs to one lender, with one role.</summary>
internal sealed class ConsoleUser : IdentityUser
{
    public Guid LenderId { get; set; }
    public ConsoleRole Role { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public required string CreatedBy { get; set; }

    /// <summary>False until the user chose a password from an invite link.</summary>
    public bool Activated { get; set; }
}

internal sealed class ConsoleUserConfiguration : IEntityTypeConfiguration<ConsoleUser>
{
    public void Configure(EntityTypeBuilder<ConsoleUser> e)
    {
        // What IdentityDbContext would configure, in Lien's own tables (LienDb is not an IdentityDbContext).
        e.ToTable("ConsoleUsers");
        e.HasKey(u => u.Id);
        e.Property(u => u.Id).HasMaxLength(36);
        e.HasIndex(u => u.NormalizedUserName).IsUnique();
        e.HasIndex(u => u.NormalizedEmail);
        e.HasIndex(u => u.LenderId);
        e.Property(u => u.ConcurrencyStamp).IsConcurrencyToken().HasMaxLength(64);
        e.Property(u => u.SecurityStamp).HasMaxLength(64);
        e.Property(u => u.UserName).HasMaxLength(100);
        e.Property(u => u.NormalizedUserName).HasMaxLength(100);
        e.Property(u => u.Email).HasMaxLength(256);
        e.Property(u => u.NormalizedEmail).HasMaxLength(256);
        e.Property(u => u.PhoneNumber).HasMaxLength(32);
        e.Property(u => u.PasswordHash).HasMaxLength(200);
        e.Property(u => u.CreatedBy).HasMaxLength(200);
        e.HasOne<Lender>().WithMany().HasForeignKey(u => u.LenderId);
    }
}

internal sealed class ConsoleUserClaimConfiguration : IEntityTypeConfiguration<IdentityUserClaim<string>>
{
    public void Configure(EntityTypeBuilder<IdentityUserClaim<string>> e)
    {
        e.ToTable("ConsoleUserClaims");
        e.HasKey(c => c.Id);
        e.HasOne<ConsoleUser>().WithMany().HasForeignKey(c => c.UserId).IsRequired();
    }
}

internal sealed class ConsoleUserLoginConfiguration : IEntityTypeConfiguration<IdentityUserLogin<string>>
{
    public void Configure(EntityTypeBuilder<IdentityUserLogin<string>> e)
    {
        e.ToTable("ConsoleUserLogins");
        e.HasKey(l => new { l.LoginProvider, l.ProviderKey });
        e.Property(l => l.LoginProvider).HasMaxLength(128);
        e.Property(l => l.ProviderKey).HasMaxLength(128);
        e.HasOne<ConsoleUser>().WithMany().HasForeignKey(l => l.UserId).IsRequired();
    }
}

/// <summary>The authenticator key and the recovery codes live here (Identity's user tokens).</summary>
internal sealed class ConsoleUserTokenConfiguration : IEntityTypeConfiguration<IdentityUserToken<string>>
{
    public void Configure(EntityTypeBuilder<IdentityUserToken<string>> e)
    {
        e.ToTable("ConsoleUserTokens");
        e.HasKey(t => new { t.UserId, t.LoginProvider, t.Name });
        e.Property(t => t.LoginProvider).HasMaxLength(128);
        e.Property(t => t.Name).HasMaxLength(128);
        e.HasOne<ConsoleUser>().WithMany().HasForeignKey(t => t.UserId).IsRequired();
    }
}
