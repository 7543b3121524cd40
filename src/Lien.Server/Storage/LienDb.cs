using Lien.Protocol;
using Lien.Server.Audit;
using Lien.Server.Devices;
using Lien.Server.Leases;
using Lien.Server.Lenders;
using Lien.Server.Payments;
using Lien.Server.Plans;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Lien.Server.Storage;

/// <summary>The one schema. <see cref="SqliteLienDb"/> and <see cref="PostgresLienDb"/> carry each provider's migrations.</summary>
internal abstract class LienDb(DbContextOptions options) : DbContext(options)
{
    public DbSet<Lender> Lenders => Set<Lender>();
    public DbSet<LenderKey> LenderKeys => Set<LenderKey>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<Device> Devices => Set<Device>();
    public DbSet<DeviceImei> DeviceImeis => Set<DeviceImei>();
    public DbSet<Plan> Plans => Set<Plan>();
    public DbSet<PlanInstallment> PlanInstallments => Set<PlanInstallment>();
    public DbSet<Payment> Payments => Set<Payment>();
    public DbSet<LeaseRecord> Leases => Set<LeaseRecord>();
    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();
    public DbSet<ServerSecret> ServerSecrets => Set<ServerSecret>();
    public DbSet<Push.PushMessage> PushMessages => Set<Push.PushMessage>();
    public DbSet<Codes.IssuedCode> IssuedCodes => Set<Codes.IssuedCode>();
    public DbSet<AgentApi.DeviceSighting> DeviceSightings => Set<AgentApi.DeviceSighting>();

    public abstract bool IsSqlite { get; }

    // Work to do once the current unit of work has committed (e.g. wake a device's stream); dropped on rollback.
    private readonly List<Action> _afterCommit = [];

    public void AfterCommit(Action action) => _afterCommit.Add(action);

    internal void DiscardAfterCommit() => _afterCommit.Clear();

    internal void RunAfterCommit()
    {
        var actions = _afterCommit.ToArray();
        _afterCommit.Clear();
        foreach (var a in actions) a();
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        configurationBuilder.Properties<ApiRole>().HaveConversion<string>().HaveMaxLength(16);
        configurationBuilder.Properties<PlanLifecycle>().HaveConversion<string>().HaveMaxLength(16);
        configurationBuilder.Properties<PaymentKind>().HaveConversion<string>().HaveMaxLength(16);
        configurationBuilder.Properties<LeaseMode>().HaveConversion<string>().HaveMaxLength(16);
    }

    protected override void OnModelCreating(ModelBuilder b)
    {
        b.Entity<Lender>(e =>
        {
            e.Property(x => x.Name).HasMaxLength(200);
            e.Property(x => x.TimeZone).HasMaxLength(64);
            e.Property(x => x.Currency).HasMaxLength(3);
            e.Property(x => x.PolicyProfile).HasMaxLength(32);
        });
        b.Entity<LenderKey>(e =>
        {
            e.HasKey(x => x.Kid);
            e.Property(x => x.Kid).HasMaxLength(40);
            e.HasIndex(x => x.LenderId);
            e.HasOne<Lender>().WithMany().HasForeignKey(x => x.LenderId);
        });
        b.Entity<ApiKey>(e =>
        {
            e.Property(x => x.Id).HasMaxLength(40);
            e.HasIndex(x => x.LenderId);
            e.HasOne<Lender>().WithMany().HasForeignKey(x => x.LenderId);
        });
        b.Entity<Device>(e =>
        {
            e.Property(x => x.Imei).HasMaxLength(15);
            e.Property(x => x.Imei2).HasMaxLength(15);
            e.Property(x => x.PushToken).HasMaxLength(1024);
            e.Property(x => x.CodeCount).IsConcurrencyToken();
            e.Ignore(x => x.Imeis);
            e.HasIndex(x => new { x.LenderId, x.CreatedAt, x.Id });
            e.HasIndex(x => new { x.LenderId, x.Imei });
            e.HasIndex(x => new { x.LenderId, x.Serial });
            e.HasOne<Lender>().WithMany().HasForeignKey(x => x.LenderId);
        });
        b.Entity<DeviceImei>(e =>
        {
            e.HasKey(x => new { x.Imei, x.DeviceId });
            e.Property(x => x.Imei).HasMaxLength(15);
            // The rule "an IMEI cannot be registered twice unless its earlier device was released", as the database enforces it.
            e.HasIndex(x => x.Imei).IsUnique().HasFilter("\"ReleasedAt\" IS NULL").HasDatabaseName("IX_DeviceImeis_Imei_Unreleased");
            e.HasOne<Device>().WithMany().HasForeignKey(x => x.DeviceId);
        });
        b.Entity<Plan>(e =>
        {
            e.Property(x => x.Reference).HasMaxLength(16);
            e.Property(x => x.Currency).HasMaxLength(3);
            e.Property(x => x.Version).IsConcurrencyToken();
            e.HasIndex(x => x.Reference).IsUnique();
            e.HasIndex(x => x.DeviceId).IsUnique().HasFilter("\"Lifecycle\" = 'Active'").HasDatabaseName("IX_Plans_DeviceId_Active");
            e.HasIndex(x => new { x.LenderId, x.CreatedAt });
            e.HasIndex(x => x.NextReviewAt);
            e.HasMany(x => x.Installments).WithOne().HasForeignKey(x => x.PlanId);
            e.HasOne<Device>().WithMany().HasForeignKey(x => x.DeviceId);
            e.HasOne<Lender>().WithMany().HasForeignKey(x => x.LenderId);
        });
        b.Entity<PlanInstallment>(e => e.HasKey(x => new { x.PlanId, x.Number }));
        b.Entity<Payment>(e =>
        {
            e.Property(x => x.Currency).HasMaxLength(3);
            e.Property(x => x.Provider).HasMaxLength(64);
            e.Property(x => x.ProviderTransactionId).HasMaxLength(128);
            // The same provider transaction is recorded once, however many times and however concurrently it arrives.
            e.HasIndex(x => new { x.LenderId, x.Provider, x.ProviderTransactionId }).IsUnique();
            e.HasIndex(x => x.ReversesId).IsUnique().HasFilter("\"ReversesId\" IS NOT NULL");
            e.HasIndex(x => new { x.PlanId, x.RecordedAt });
            e.HasOne<Plan>().WithMany().HasForeignKey(x => x.PlanId);
        });
        b.Entity<LeaseRecord>(e =>
        {
            e.ToTable("Leases");
            e.HasKey(x => new { x.DeviceId, x.Seq });
            e.HasOne<Device>().WithMany().HasForeignKey(x => x.DeviceId);
        });
        b.Entity<AuditEvent>(e =>
        {
            e.HasIndex(x => new { x.LenderId, x.Seq }).IsUnique();
            e.Property(x => x.Action).HasMaxLength(64);
        });
        b.Entity<ServerSecret>(e => e.HasKey(x => x.Name));
        b.Entity<AgentApi.DeviceSighting>(e =>
        {
            e.HasKey(x => x.DeviceId);
            e.HasOne<Device>().WithOne().HasForeignKey<AgentApi.DeviceSighting>(x => x.DeviceId);
        });
        b.Entity<Codes.IssuedCode>(e =>
        {
            e.HasKey(x => new { x.DeviceId, x.Count });
            e.Property(x => x.Type).HasConversion<string>().HasMaxLength(16);
            e.HasOne<Device>().WithMany().HasForeignKey(x => x.DeviceId);
        });
        b.Entity<Push.PushMessage>(e =>
        {
            e.HasIndex(x => x.DueAt);
            e.HasOne<Device>().WithMany().HasForeignKey(x => x.DeviceId);
        });
    }
}

internal sealed class SqliteLienDb(DbContextOptions<SqliteLienDb> options) : LienDb(options)
{
    public override bool IsSqlite => true;

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        base.ConfigureConventions(configurationBuilder);
        // SQLite has no instant type; UTC ticks as an integer keep ordering and comparison in SQL.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
    }
}

internal sealed class PostgresLienDb(DbContextOptions<PostgresLienDb> options) : LienDb(options)
{
    public override bool IsSqlite => false;
}
