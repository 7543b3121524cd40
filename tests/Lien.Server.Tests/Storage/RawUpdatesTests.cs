// The stand-in for another writer sets a device's column by its id, in the test's own SQL: nothing user-given reaches it.
#pragma warning disable EF1002

using Lien.Server.Devices;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Tests.Storage;

/// <summary>
/// <see cref="RawUpdates"/>: a unit of work whose only changes are updates writes the changed columns of each row itself
/// (on PostgreSQL in the unit's one round trip), checks the concurrency tokens as EF does, and is redone when a token moved.
/// </summary>
public abstract class RawUpdatesTests(LienServer server)
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    [Fact]
    public async Task OnlyUpdates_ChangedColumnsWrittenAndAccepted_OthersKept()
    {
        var id = await DeviceAsync();
        var before = await server.WithDbAsync(db => db.Devices.AsNoTracking().SingleAsync(d => d.Id == id, Ct));
        var states = await server.WithDbAsync(db => db.InTransactionAsync(async () =>
        {
            var device = await db.Devices.AsTracking().SingleAsync(d => d.Id == id, Ct);
            device.Make = "Tecno";
            device.LeaseUnlockedUntil = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
            device.WrongCodes = 3;
            return db.ChangeTracker.Entries();
        }, Ct));
        Assert.All(states, e => Assert.Equal(EntityState.Unchanged, e.State)); // accepted, as after EF's save

        var after = await server.WithDbAsync(db => db.Devices.AsNoTracking().SingleAsync(d => d.Id == id, Ct));
        Assert.Equivalent(new { Make = "Tecno", LeaseUnlockedUntil = (DateTimeOffset?)DateTimeOffset.FromUnixTimeSeconds(1_800_000_000), WrongCodes = 3 },
            new { after.Make, after.LeaseUnlockedUntil, after.WrongCodes });
        (before.Make, before.LeaseUnlockedUntil, before.WrongCodes) = (after.Make, after.LeaseUnlockedUntil, after.WrongCodes);
        Assert.Equivalent(before, after); // every other column as it was
    }

    [Fact]
    public async Task ConcurrencyTokenMovedSinceRead_UnitRolledBackAndRedone()
    {
        var id = await DeviceAsync();
        var attempts = 0;
        await server.WithDbAsync(db => db.InTransactionAsync(async () =>
        {
            attempts++;
            var device = await db.Devices.AsTracking().SingleAsync(d => d.Id == id, Ct);
            // Another writer moves the token after the read (only once): the update must match no row.
            if (attempts == 1) await db.Database.ExecuteSqlRawAsync($"UPDATE \"Devices\" SET \"CodeCount\" = \"CodeCount\" + 10 WHERE \"Id\" = '{id.ToString().ToUpperInvariant()}'", Ct);
            device.CodeCount++;
            return 0;
        }, Ct));

        // Without the token's check the first attempt would have written 11. (The stand-in ran in the unit's own transaction
        // — on SQLite its savepoint — so the redo rolled it back with the rest.)
        Assert.Equal(2, attempts);
        Assert.Equal(1, await server.WithDbAsync(db => db.Devices.Where(d => d.Id == id).Select(d => d.CodeCount).SingleAsync(Ct)));
    }

    [Fact]
    public async Task AnAddedRowInTheUnit_EverythingSavedByEf()
    {
        var id = await DeviceAsync();
        var added = new Device { Id = Guid.CreateVersion7(), LenderId = await server.WithDbAsync(db => db.Devices.Where(d => d.Id == id).Select(d => d.LenderId).SingleAsync(Ct)),
            Imei = LenderApi.NewImei(), CreatedAt = server.Clock.GetUtcNow() };
        await server.WithDbAsync(db => db.InTransactionAsync(async () =>
        {
            (await db.Devices.AsTracking().SingleAsync(d => d.Id == id, Ct)).Model = "Spark 20";
            db.Devices.Add(added);
            return 0;
        }, Ct));
        Assert.Equal("Spark 20", await server.WithDbAsync(db => db.Devices.Where(d => d.Id == id).Select(d => d.Model).SingleAsync(Ct)));
        Assert.True(await server.WithDbAsync(db => db.Devices.AnyAsync(d => d.Id == added.Id, Ct)));
    }

    private async Task<Guid> DeviceAsync()
    {
        var tenant = await server.NewLenderAsync();
        return (await tenant.Admin.RegisterAsync()).GetProperty("id").GetGuid();
    }
}

public sealed class SqliteRawUpdatesTests(SqliteServer server) : RawUpdatesTests(server), IClassFixture<SqliteServer>;

public sealed class PostgresRawUpdatesTests(PostgresServer server) : RawUpdatesTests(server), IClassFixture<PostgresServer>
{
    [Fact]
    public async Task NewRowsAndUpdates_OneBatch()
    {
        var tenant = await server.NewLenderAsync();
        var id = (await tenant.Admin.RegisterAsync()).Id();
        var sent = await server.WithDbAsync(async db =>
        {
            var before = db.PostgresWrites.Sent;
            await db.InTransactionAsync(async () =>
            {
                var device = await db.Devices.AsTracking().SingleAsync(d => d.Id == id);
                device.Make = "Infinix";
                await RawInsert.AddAsync(db, new Lien.Server.Leases.LeaseRecord
                {
                    DeviceId = id, Seq = 5000, LenderId = tenant.LenderId, Mode = Lien.Protocol.LeaseMode.Unlocked, IssuedAt = server.Clock.GetUtcNow(),
                    ScreenJson = "{}", Reason = "one batch", Cause = "test", Kid = "k", Jws = "a.b.c", CreatedAt = server.Clock.GetUtcNow(),
                }, CancellationToken.None);
                return 0;
            });
            return db.PostgresWrites.Sent - before;
        });
        Assert.Equal(1, sent); // the lease's insert and the device's update, together
        Assert.Equal("Infinix", await server.WithDbAsync(db => db.Devices.Where(d => d.Id == id).Select(d => d.Make).SingleAsync()));
        Assert.True(await server.WithDbAsync(db => db.Leases.AnyAsync(l => l.DeviceId == id && l.Seq == 5000)));
    }
}
