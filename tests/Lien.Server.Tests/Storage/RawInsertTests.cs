using Lien.Protocol;
using Lien.Server.Devices;
using Lien.Server.Leases;
using Lien.Server.Payments;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Tests.Storage;

/// <summary>
/// <see cref="RawInsert"/>: inside a unit of work a new row is written by a hand-written statement — on SQLite at once by
/// the writer's kept statement, on PostgreSQL held for the unit's one round trip and sent before anything the unit runs
/// after it — stored exactly as EF's own save would store it, and it commits or rolls back with its unit.
/// </summary>
public abstract class RawInsertTests(LienServer server)
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    [Fact]
    public async Task Payment_StoredColumnForColumnAsEfStoresIt()
    {
        var (lender, planId) = await PlanAsync();
        var now = server.Clock.GetUtcNow();
        Payment Entry(string tx) => new()
        {
            Id = Guid.CreateVersion7(now), LenderId = lender, PlanId = planId, Kind = PaymentKind.Reversal, Amount = -12_34, Currency = "KES",
            Provider = "raw-insert", ProviderTransactionId = tx, ReceivedAt = now.AddTicks(1_234_000), RecordedAt = now, ReversesId = null, Reason = "ü\"'\n", Actor = "test",
        };
        var raw = Entry("raw");
        var tracked = Entry("tracked");
        await server.WithDbAsync(db => db.InTransactionAsync(async () =>
        {
            await RawInsert.AddAsync(db, raw, Ct);
            Assert.Equal(EntityState.Detached, db.Entry(raw).State); // written, not waiting in the save
            db.Payments.Add(tracked); // EF's own insert, in the same unit's save
            return 0;
        }, Ct));

        var rows = await StoredAsync("SELECT * FROM \"Payments\" WHERE \"Provider\" = 'raw-insert' ORDER BY \"ProviderTransactionId\"");
        Assert.Equal(2, rows.Count);
        var (efRow, rawRow) = (rows[1], rows[0]);
        foreach (var column in efRow.Keys.Except(["Id", "ProviderTransactionId"])) Assert.Equal(efRow[column], rawRow[column]);
        var read = await server.WithDbAsync(db => db.Payments.AsNoTracking().SingleAsync(p => p.Id == raw.Id, Ct));
        Assert.Equivalent(raw, read, strict: true);
    }

    [Fact]
    public async Task LeaseOfADeviceAddedInTheSameUnit_WaitsForTheSave()
    {
        var (lender, _) = await PlanAsync();
        var device = new Device { Id = Guid.CreateVersion7(), LenderId = lender, Imei = LenderApi.NewImei(), CreatedAt = server.Clock.GetUtcNow() };
        var lease = Lease(device.Id, lender);
        await server.WithDbAsync(db => db.InTransactionAsync(async () =>
        {
            db.Devices.Add(device);
            await RawInsert.AddAsync(db, lease, Ct, unsaved: device); // inserted now, its foreign key would fail
            Assert.Equal(EntityState.Added, db.Entry(lease).State);
            return 0;
        }, Ct));
        Assert.Equal(1, await server.WithDbAsync(db => db.Leases.CountAsync(l => l.DeviceId == device.Id, Ct)));
    }

    [Fact]
    public async Task UnitThatFails_TakesItsRawRowWithIt()
    {
        var (lender, _) = await PlanAsync();
        var deviceId = await server.WithDbAsync(db => db.Devices.Where(d => d.LenderId == lender).Select(d => d.Id).SingleAsync(Ct));
        var lease = Lease(deviceId, lender, seq: 1000);
        await Assert.ThrowsAsync<InvalidOperationException>(() => server.WithDbAsync(db => db.InTransactionAsync<int>(async () =>
        {
            await RawInsert.AddAsync(db, lease, Ct);
            Assert.Equal(1, await db.Leases.CountAsync(l => l.DeviceId == deviceId && l.Seq == 1000, Ct)); // in the open transaction
            throw new InvalidOperationException("the unit fails after the insert");
        }, Ct)));
        Assert.Equal(0, await server.WithDbAsync(db => db.Leases.CountAsync(l => l.DeviceId == deviceId && l.Seq == 1000, Ct)));
    }

    private static LeaseRecord Lease(Guid deviceId, Guid lender, long seq = 1) => new()
    {
        DeviceId = deviceId, Seq = seq, LenderId = lender, Mode = LeaseMode.Locked, IssuedAt = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000),
        UnlockedUntil = null, ScreenJson = "{}", Reason = "test", Cause = "test", Kid = "k", Jws = "a.b.c", CreatedAt = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000),
    };

    [Fact]
    public async Task UnitThatFailsHoldingWrites_LeavesNothingForTheContextsNextUnit()
    {
        var (lender, _) = await PlanAsync();
        var deviceId = await server.WithDbAsync(db => db.Devices.Where(d => d.LenderId == lender).Select(d => d.Id).SingleAsync(Ct));
        await server.WithDbAsync(async db =>
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => db.InTransactionAsync<int>(async () =>
            {
                await RawInsert.AddAsync(db, Lease(deviceId, lender, seq: 2000), Ct);
                throw new InvalidOperationException("the unit fails before its save");
            }, Ct));
            Assert.False(db.PostgresWrites.Pending);
            // The same context's next unit writes only its own row.
            await db.InTransactionAsync(async () =>
            {
                await RawInsert.AddAsync(db, Lease(deviceId, lender, seq: 2001), Ct);
                return 0;
            }, Ct);
            return 0;
        });
        Assert.Equal([2001L], await server.WithDbAsync(db => db.Leases.Where(l => l.DeviceId == deviceId && l.Seq >= 2000).Select(l => l.Seq).ToListAsync(Ct)));
    }

    private async Task<(Guid Lender, Guid Plan)> PlanAsync()
    {
        var tenant = await server.NewLenderAsync();
        var device = await tenant.Admin.RegisterAsync();
        var plan = await tenant.Admin.PlanAsync(device.GetProperty("id").GetGuid(), server.Today.AddDays(5));
        return (tenant.LenderId, plan.GetProperty("id").GetGuid());
    }

    // Each row as the database keeps it (column → stored value), read by plain SQL outside any unit of work.
    private Task<List<Dictionary<string, object>>> StoredAsync(string sql) => server.WithDbAsync(async db =>
    {
        await db.Database.OpenConnectionAsync(Ct);
        try
        {
            await using var command = db.Database.GetDbConnection().CreateCommand();
            command.CommandText = sql;
            await using var reader = await command.ExecuteReaderAsync(Ct);
            var rows = new List<Dictionary<string, object>>();
            while (await reader.ReadAsync(Ct))
                rows.Add(Enumerable.Range(0, reader.FieldCount).ToDictionary(reader.GetName, reader.GetValue));
            return rows;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    });
}

public sealed class SqliteRawInsertTests(SqliteServer server) : RawInsertTests(server), IClassFixture<SqliteServer>;

public sealed class PostgresRawInsertTests(PostgresServer server) : RawInsertTests(server), IClassFixture<PostgresServer>
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    [Fact]
    public async Task HeldUntilTheSave_WhenTheSaveIsEfs_SavedWithItsOwnRows()
    {
        var tenant = await server.NewLenderAsync();
        var now = server.Clock.GetUtcNow();
        var device = new Device { Id = Guid.CreateVersion7(), LenderId = tenant.LenderId, Imei = LenderApi.NewImei(), CreatedAt = now };
        LeaseRecord Lease(long seq) => new()
        {
            DeviceId = device.Id, Seq = seq, LenderId = tenant.LenderId, Mode = LeaseMode.Unlocked, IssuedAt = now, ScreenJson = "{}",
            Reason = "held", Cause = "test", Kid = "k", Jws = "a.b.c", CreatedAt = now,
        };
        var sent = await server.WithDbAsync(async db =>
        {
            var before = db.PostgresWrites.Sent;
            await db.InTransactionAsync(async () =>
            {
                await RawInsert.AddAsync(db, device, Ct);
                await RawInsert.AddAsync(db, Lease(1), Ct); // names the device held before it
                await RawInsert.AddAsync(db, Lease(2), Ct);
                Assert.Equal(3, db.PostgresWrites.Count); // nothing sent yet
                // EF's own insert, which names the held device: the save is EF's, and the held rows are handed back to it
                // (EF orders the inserts: the device before its IMEI and leases, or a foreign key fails).
                db.DeviceImeis.Add(new DeviceImei { Imei = device.Imei, DeviceId = device.Id, LenderId = tenant.LenderId });
                return 0;
            }, Ct);
            return db.PostgresWrites.Sent - before;
        });
        Assert.Equal(0, sent); // no batch of their own: in EF's one save
        Assert.Equal([1L, 2], await server.WithDbAsync(db => db.Leases.Where(l => l.DeviceId == device.Id).OrderBy(l => l.Seq).Select(l => l.Seq).ToListAsync(Ct)));
        Assert.True(await server.WithDbAsync(db => db.DeviceImeis.AnyAsync(i => i.DeviceId == device.Id, Ct)));
    }

    [Fact]
    public async Task TransactionBegunByHand_CommitSendsWhatIsHeld_RollbackDropsIt()
    {
        var tenant = await server.NewLenderAsync();
        var deviceId = (await tenant.Admin.RegisterAsync()).Id();
        LeaseRecord Lease(long seq) => new()
        {
            DeviceId = deviceId, Seq = seq, LenderId = tenant.LenderId, Mode = LeaseMode.Unlocked, IssuedAt = server.Clock.GetUtcNow(), ScreenJson = "{}",
            Reason = "by hand", Cause = "test", Kid = "k", Jws = "a.b.c", CreatedAt = server.Clock.GetUtcNow(),
        };
        await server.WithDbAsync(async db =>
        {
            await using (var rolledBack = await db.Database.BeginTransactionAsync(Ct))
            {
                await RawInsert.AddAsync(db, Lease(4000), Ct);
                await rolledBack.RollbackAsync(Ct);
            }
            Assert.False(db.PostgresWrites.Pending);
            await using var committed = await db.Database.BeginTransactionAsync(Ct);
            await RawInsert.AddAsync(db, Lease(4001), Ct);
            Assert.True(db.PostgresWrites.Pending);
            await committed.CommitAsync(Ct); // no save, no query: the commit itself sends it
            return 0;
        });
        Assert.Equal([4001L], await server.WithDbAsync(db => db.Leases.Where(l => l.DeviceId == deviceId && l.Seq >= 4000).Select(l => l.Seq).ToListAsync(Ct)));
    }
}
