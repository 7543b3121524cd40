using Lien.Server.AgentApi;
using Lien.Server.Audit;
using Lien.Server.Codes;
using Lien.Server.DeviceTrust;
using Lien.Server.Devices;
using Lien.Server.Leases;
using Lien.Server.Lenders;
using Lien.Server.Notices;
using Lien.Server.Payments;
using Lien.Server.Plans;
using Lien.Server.Push;
using Lien.Server.Webhooks;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Lien.Server.Storage;

/// <summary>The one schema. <see cref="SqliteLienDb"/> and <see cref="PostgresLienDb"/> carry each provider's migrations.</summary>
internal abstract class LienDb(DbContextOptions options) : DbContext(options), Microsoft.AspNetCore.DataProtection.EntityFrameworkCore.IDataProtectionKeyContext
{
    /// <summary>The console's Data Protection keys, sealed (<c>Console/ConsoleKeys</c>).</summary>
    public DbSet<Microsoft.AspNetCore.DataProtection.EntityFrameworkCore.DataProtectionKey> DataProtectionKeys => Set<Microsoft.AspNetCore.DataProtection.EntityFrameworkCore.DataProtectionKey>();

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
    public DbSet<AuditCheckpoint> AuditCheckpoints => Set<AuditCheckpoint>();
    public DbSet<ServerSecret> ServerSecrets => Set<ServerSecret>();
    public DbSet<PushMessage> PushMessages => Set<PushMessage>();
    public DbSet<IssuedCode> IssuedCodes => Set<IssuedCode>();
    public DbSet<DeviceSighting> DeviceSightings => Set<DeviceSighting>();
    public DbSet<EnrollmentToken> EnrollmentTokens => Set<EnrollmentToken>();
    public DbSet<SpentChallenge> SpentChallenges => Set<SpentChallenge>();
    public DbSet<WebhookEndpoint> WebhookEndpoints => Set<WebhookEndpoint>();
    public DbSet<WebhookMessage> WebhookMessages => Set<WebhookMessage>();
    public DbSet<SmsMessage> SmsMessages => Set<SmsMessage>();
    public DbSet<NoticeTemplate> NoticeTemplates => Set<NoticeTemplate>();

    public abstract bool IsSqlite { get; }

    // Work to do once the current unit of work has committed (e.g. wake a device's stream); dropped on rollback.
    private readonly List<Action> _afterCommit = [];

    // The lenders whose write lock this unit of work holds (see Transactions.LockLenderIfRedoingAsync).
    internal HashSet<Guid> LockedLenders { get; } = [];

    /// <summary>Counts units of work (attempts included): what a unit arranged under an older number was rolled back or committed.</summary>
    internal long UnitOfWork { get; private set; }

    /// <summary>True while a unit of work is being redone after a conflict.</summary>
    internal bool Redoing { get; set; }

    /// <summary>On PostgreSQL, the unit of work's writes held for its save (<see cref="Storage.PostgresWrites"/>).</summary>
    internal PostgresWrites PostgresWrites { get; } = new();

    /// <summary>Whether a unit of work is running: its transaction is open, or (PostgreSQL) deferred until it is needed.</summary>
    internal bool InUnitOfWork => Database.CurrentTransaction is not null || PostgresWrites.TransactionDeferred;

    public void AfterCommit(Action action) => _afterCommit.Add(action);

    // A save sends the held writes first, even when EF itself has nothing to write (and so runs no command to send them before).
    public override async Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        await PostgresWrites.FlushAsync(this, cancellationToken);
        return await base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        PostgresWrites.Flush(this);
        return base.SaveChanges(acceptAllChangesOnSuccess);
    }

    /// <summary>Forgets what the unit of work arranged (after-commit actions, lender locks, held writes): it is starting, or was rolled back.</summary>
    internal void DiscardAfterCommit()
    {
        _afterCommit.Clear();
        LockedLenders.Clear();
        PostgresWrites.Clear();
        UnitOfWork++;
    }

    internal void RunAfterCommit()
    {
        var actions = _afterCommit.ToArray();
        _afterCommit.Clear();
        LockedLenders.Clear();
        foreach (var a in actions) a();
    }

    // Enums are stored by name: readable in SQL, and safe when members are added or reordered.
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) =>
        configurationBuilder.Properties<Enum>().HaveConversion<string>().HaveMaxLength(16);

    // Each capability configures its own entities (an IEntityTypeConfiguration beside each entity).
    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(LienDb).Assembly);
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

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        // EF's saves check a row's concurrency token (and read a generated key) by RETURNING; SQLite holds a RETURNING
        // statement's rows in a temporary b-tree, with a pager and page cache of its own, opened and freed at every run
        // on the one writer's thread. Without it EF asks changes() and last_insert_rowid() instead, on the same connection.
        foreach (var entity in modelBuilder.Model.GetEntityTypes().Where(e => e.GetTableName() is not null))
            entity.UseSqlReturningClause(false);
    }
}

internal sealed class PostgresLienDb(DbContextOptions<PostgresLienDb> options) : LienDb(options)
{
    public override bool IsSqlite => false;

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        // The inserting transaction's id, which only PostgreSQL has (and only its audit sequencer needs).
        AuditEvent.ConfigurePostgres(modelBuilder.Entity<AuditEvent>());
    }
}
