using System.Security.Cryptography;
using Lien.Server.Audit;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Lien.Server.Tests.Audit;

/// <summary>
/// A database whose chain was written before events were chained after commit (every event hashed whole,
/// <c>lien-audit-v2</c>): migrated to <c>AuditChainedAfterCommit</c>, its chain still verifies as it was written, and new
/// events, MAC'd and chained by the sequencer, continue it. Through the real migrations, on SQLite and PostgreSQL.
/// </summary>
public abstract class AuditUpgradeTests(Store store) : IAsyncLifetime
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), "lien-upgrade-" + Guid.NewGuid().ToString("N") + ".db");
    private readonly string _pgDatabase = "lien_upgrade_" + Guid.NewGuid().ToString("N");
    private readonly SecretBox _box = new(RandomNumberGenerator.GetBytes(32));

    private string Connection => store == Store.Sqlite
        ? $"Data Source={_file}"
        : new NpgsqlConnectionStringBuilder(LienServer.PostgresAdmin) { Database = _pgDatabase }.ConnectionString;

    private string BeforeMigration => store == Store.Sqlite ? "20261130022638_DeviceTrust" : "20261130022646_DeviceTrust";

    public async ValueTask InitializeAsync()
    {
        if (store == Store.Postgres && LienServer.PostgresAdmin is not null) await LienServer.PostgresAdminAsync($"CREATE DATABASE \"{_pgDatabase}\"");
    }

    public async ValueTask DisposeAsync()
    {
        if (store == Store.Postgres && LienServer.PostgresAdmin is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await LienServer.PostgresAdminAsync($"DROP DATABASE IF EXISTS \"{_pgDatabase}\" WITH (FORCE)");
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (File.Exists(_file)) File.Delete(_file);
        GC.SuppressFinalize(this);
    }

    private ServiceProvider Services()
    {
        var services = new ServiceCollection().AddLogging();
        if (store == Store.Sqlite)
        {
            // Writes on SQLite go through the file's one writer, which travels in the context's options.
            var writer = new SqliteWriter(Connection, new SqlitePragmas("NORMAL"));
            services.AddSingleton(_ => writer).AddDbContext<SqliteLienDb>(o => o.UseSqlite(Connection).AddInterceptors(writer))
                .AddScoped<LienDb>(sp => sp.GetRequiredService<SqliteLienDb>());
        }
        else services.AddDbContext<PostgresLienDb>(o => o.UseNpgsql(Connection)).AddScoped<LienDb>(sp => sp.GetRequiredService<PostgresLienDb>());
        services.AddOptions<AuditOptions>();
        return services.AddSingleton(new AuditChain(_box)).AddSingleton(TimeProvider.System).AddSingleton<AuditSequencer>().AddScoped<AuditTrail>()
            .BuildServiceProvider();
    }

    [Fact]
    public async Task Migrate_ChainWrittenBeforeMacs_StillVerifiesAndNewEventsContinueIt()
    {
        if (store == Store.Postgres && LienServer.PostgresAdmin is null) Assert.Skip($"PostgreSQL tests need {LienServer.PostgresVariable}.");
        var ct = TestContext.Current.CancellationToken;
        await using var services = Services();
        var chain = services.GetRequiredService<AuditChain>();
        var lenderId = Guid.CreateVersion7();
        var legacy = new List<AuditEvent>();

        await using (var scope = services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<LienDb>();
            await db.Database.MigrateAsync(BeforeMigration, ct);
            // The chain as the old code wrote it: one keyed hash over every field, and no MAC, event id or transaction id.
            var prev = AuditChain.Genesis;
            for (var seq = 1; seq <= 3; seq++)
            {
                var e = new AuditEvent
                {
                    LenderId = lenderId, Seq = seq, At = AuditChain.Stored(TimeProvider.System.GetUtcNow()), Actor = "api-key:akold", Action = "payment.recorded",
                    Subject = $"payment:{Guid.NewGuid()}", Data = $"{{\"amount\":{seq}00}}", PrevHash = prev,
                };
                e.Hash = prev = chain.HashOf(e);
                object at = store == Store.Sqlite ? (long)new DateTimeOffsetToBinaryConverter().ConvertToProvider(e.At)! : e.At;
                await db.Database.ExecuteSqlAsync($"""
                    INSERT INTO "AuditEvents" ("LenderId", "Seq", "At", "Actor", "Action", "Subject", "Data", "PrevHash", "Hash")
                    VALUES ({e.LenderId}, {e.Seq}, {at}, {e.Actor}, {e.Action}, {e.Subject}, {e.Data}, {e.PrevHash}, {e.Hash})
                    """, ct);
                legacy.Add(e);
            }
            await db.Database.MigrateAsync(ct);
        }

        await using (var scope = services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<LienDb>();
            var report = await chain.VerifyAsync(db, lenderId, ct);
            Assert.True(report.Intact, report.Problem);
            Assert.Equal(3, report.Checked);
            var audit = scope.ServiceProvider.GetRequiredService<AuditTrail>();
            await db.InTransactionAsync(async () =>
            {
                await audit.RecordAsync(lenderId, "api-key:aknew", AuditAction.PaymentRecorded, $"payment:{Guid.NewGuid()}", data: new { amount = 400 }, ct: ct);
                await audit.RecordAsync(lenderId, "api-key:aknew", AuditAction.LenderUpdated, $"lender:{lenderId}", ct: ct);
                return true;
            }, ct);
        }
        await services.GetRequiredService<AuditSequencer>().CatchUpAsync(ct);

        await using (var scope = services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<LienDb>();
            var report = await chain.VerifyAsync(db, lenderId, ct);
            Assert.True(report.Intact, report.Problem);
            Assert.Equal(5, report.Checked);
            var rows = await db.AuditEvents.AsNoTracking().Where(e => e.LenderId == lenderId).OrderBy(e => e.Seq).ToListAsync(ct);
            Assert.Equal(legacy.Select(e => (e.Seq, e.Hash, e.Subject)), rows.Take(3).Select(e => (e.Seq, e.Hash, e.Subject)));
            Assert.All(rows.Take(3), e => Assert.Null(e.Mac));
            Assert.Equal(legacy[^1].Hash, rows[3].PrevHash);
            Assert.All(rows.Skip(3), e => Assert.True(chain.IsAuthentic(e)));
            if (store == Store.Postgres)
            {
                // The events from before keep no transaction id; new ones are given theirs by the database.
                var xids = await db.Database.SqlQuery<long?>($"""SELECT "Xid" AS "Value" FROM "AuditEvents" ORDER BY "Id" """).ToListAsync(ct);
                Assert.Equal([null, null, null], xids.Take(3));
                Assert.All(xids.Skip(3), x => Assert.True(x > 0));
            }
        }
    }
}

public sealed class SqliteAuditUpgradeTests() : AuditUpgradeTests(Store.Sqlite);

public sealed class PostgresAuditUpgradeTests() : AuditUpgradeTests(Store.Postgres);
