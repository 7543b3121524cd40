// The stand-in for another writer sets a device's column by its id, in the test's own SQL: nothing user-given reaches it.
#pragma warning disable EF1002

using Lien.Server.Leases;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Lien.Server.Tests.Storage;

/// <summary>
/// A PostgreSQL unit of work with its transaction deferred (<see cref="PostgresWrites.TransactionDeferred"/>, the payment's):
/// reads alone, then its writes as one batch that is the whole transaction — and, whenever something else must run
/// after a write was held, a real transaction begun first, so the unit is all or nothing either way.
/// </summary>
public sealed class DeferredTransactionTests(PostgresServer server) : IClassFixture<PostgresServer>
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    [Fact]
    public async Task ReadsThenHeldWrites_OneBatchNoTransaction()
    {
        var (lenderId, id) = await DeviceAsync();
        var (sent, begun, open) = await server.WithDbAsync(async db =>
        {
            var (sent0, begun0) = (db.PostgresWrites.Sent, db.PostgresWrites.Begun);
            var openDuring = await db.InTransactionAsync(async () =>
            {
                var device = await db.Devices.AsTracking().SingleAsync(d => d.Id == id, Ct);
                device.Make = "Infinix";
                await RawInsert.AddAsync(db, Lease(lenderId, id, 7000), Ct);
                return db.Database.CurrentTransaction is not null;
            }, Ct, deferTransaction: true);
            return (db.PostgresWrites.Sent - sent0, db.PostgresWrites.Begun - begun0, openDuring);
        });
        Assert.False(open);
        Assert.Equal(1, sent); // the lease's insert and the device's update, in one batch
        Assert.Equal(0, begun); // ... with no BEGIN and no COMMIT
        Assert.Equal("Infinix", await server.WithDbAsync(db => db.Devices.Where(d => d.Id == id).Select(d => d.Make).SingleAsync(Ct)));
        Assert.True(await server.WithDbAsync(db => db.Leases.AnyAsync(l => l.DeviceId == id && l.Seq == 7000, Ct)));
    }

    [Fact]
    public async Task TokenMovedSinceRead_BatchKeepsNothingAndUnitRedone()
    {
        var (lenderId, id) = await DeviceAsync();
        var attempts = 0;
        await server.WithDbAsync(db => db.InTransactionAsync(async () =>
        {
            attempts++;
            var device = await db.Devices.AsTracking().SingleAsync(d => d.Id == id, Ct);
            // Another writer moves the token after the read (no transaction is open: it commits at once).
            if (attempts == 1) await db.Database.ExecuteSqlRawAsync($"UPDATE \"Devices\" SET \"CodeCount\" = \"CodeCount\" + 10 WHERE \"Id\" = '{id}'", Ct);
            await RawInsert.AddAsync(db, Lease(lenderId, id, 7100 + attempts), Ct);
            device.CodeCount++;
            return 0;
        }, Ct, deferTransaction: true));

        Assert.Equal(2, attempts);
        Assert.Equal(11, await server.WithDbAsync(db => db.Devices.Where(d => d.Id == id).Select(d => d.CodeCount).SingleAsync(Ct)));
        // The first attempt's insert went in the batch whose update matched nothing: not kept.
        Assert.Equal([7102L], await server.WithDbAsync(db => db.Leases.Where(l => l.DeviceId == id && l.Seq > 7000).Select(l => l.Seq).ToListAsync(Ct)));
    }

    [Fact]
    public async Task QueryAfterAHeldWrite_TransactionBegunAndAllOrNothing()
    {
        var (lenderId, id) = await DeviceAsync();
        var begun = await server.WithDbAsync(async db =>
        {
            var before = db.PostgresWrites.Begun;
            await Assert.ThrowsAsync<InvalidOperationException>(() => db.InTransactionAsync<int>(async () =>
            {
                await RawInsert.AddAsync(db, Lease(lenderId, id, 7200), Ct);
                // A query after the held insert: the insert must be sent first, so the unit's transaction begins here.
                Assert.True(await db.Leases.AnyAsync(l => l.DeviceId == id && l.Seq == 7200, Ct));
                Assert.NotNull(db.Database.CurrentTransaction);
                await RawInsert.AddAsync(db, Lease(lenderId, id, 7201), Ct);
                throw new InvalidOperationException("the unit fails after its transaction began");
            }, Ct, deferTransaction: true));
            return db.PostgresWrites.Begun - before;
        });
        Assert.Equal(1, begun);
        Assert.False(await server.WithDbAsync(db => db.Leases.AnyAsync(l => l.DeviceId == id && l.Seq >= 7200, Ct)));
    }

    [Fact]
    public async Task RawCommandAfterAHeldWrite_RunsInTheBegunTransaction_AllKept()
    {
        var (lenderId, id) = await DeviceAsync();
        await server.WithDbAsync(db => db.InTransactionAsync(async () =>
        {
            await RawInsert.AddAsync(db, Lease(lenderId, id, 7300), Ct);
            using var command = new RawCommand<Lien.Server.Devices.Device>(db, """UPDATE "Devices" SET "Model" = 'Spark 20' WHERE "Id" = @Id""").With("Id", id);
            Assert.Equal(1, await command.ExecuteAsync(Ct));
            await RawInsert.AddAsync(db, Lease(lenderId, id, 7301), Ct);
            return 0;
        }, Ct, deferTransaction: true));
        Assert.Equal("Spark 20", await server.WithDbAsync(db => db.Devices.Where(d => d.Id == id).Select(d => d.Model).SingleAsync(Ct)));
        Assert.Equal(2, await server.WithDbAsync(db => db.Leases.CountAsync(l => l.DeviceId == id && l.Seq >= 7300, Ct)));
    }

    [Fact]
    public async Task RowCheck_RaisesSerializationFailureUnlessOneRow()
    {
        await using var connection = new NpgsqlConnection(server.PostgresConnection);
        await connection.OpenAsync(Ct);
        await using (var one = new NpgsqlCommand("SELECT lien_one_row(1)", connection)) await one.ExecuteNonQueryAsync(Ct);
        foreach (var changed in new[] { 0, 2 })
        {
            await using var command = new NpgsqlCommand($"SELECT lien_one_row({changed})", connection);
            var e = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync(Ct));
            Assert.Equal(PostgresErrorCodes.SerializationFailure, e.SqlState);
            Assert.True(Transactions.IsConflict(e));
        }
    }

    private LeaseRecord Lease(Guid lenderId, Guid deviceId, long seq) => new()
    {
        DeviceId = deviceId, Seq = seq, LenderId = lenderId, Mode = Lien.Protocol.LeaseMode.Unlocked, IssuedAt = server.Clock.GetUtcNow(),
        ScreenJson = "{}", Reason = "deferred", Cause = "test", Kid = "k", Jws = "a.b.c", CreatedAt = server.Clock.GetUtcNow(),
    };

    private async Task<(Guid LenderId, Guid DeviceId)> DeviceAsync()
    {
        var tenant = await server.NewLenderAsync();
        return (tenant.LenderId, (await tenant.Admin.RegisterAsync()).Id());
    }
}
