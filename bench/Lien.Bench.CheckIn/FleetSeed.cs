using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using Lien.Protocol;
using Lien.Server.AgentApi;
using Lien.Server.Certificates;
using Lien.Server.Audit;
using Lien.Server.Leases;
using Lien.Server.Lenders;
using Lien.Server.Push;
using Lien.Server.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Lien.Bench.CheckIn;

/// <summary>
/// A fleet of enrolled devices in the server's own SQLite schema: one lender made by <see cref="LenderSetup"/>, and per
/// device its IMEI claim, its first lease (signed with the lender's key by <see cref="LeaseSigner"/>, as registration
/// would) and an enrollment (token epoch 1). Rows go in through prepared commands in large transactions, because
/// EF change tracking would take hours for a million devices.
/// </summary>
internal static class FleetSeed
{
    private const int Batch = 25_000;
    private static readonly ValueConverter<DateTimeOffset, long> Instant = new DateTimeOffsetToBinaryConverter();

    private sealed record SeededDevice(Guid Id, string Imei, DateTimeOffset CreatedAt, string Jws);

    public static async Task<int> RunAsync(string dataDir, int count, string tokensFile, int tokenCount)
    {
        var clock = TimeProvider.System;
        var started = clock.GetTimestamp();
        var builder = Host.CreateApplicationBuilder([]);
        builder.Configuration["Lien:DataDir"] = dataDir;
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddStorage(builder.Configuration, builder.Environment);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddAudit(builder.Configuration);
        builder.Services.AddLenders();
        // LenderSetup reaches the lease issuer (re-signing on key revocation), which delivers through the device API.
        builder.Services.AddLeases();
        builder.Services.AddCertificates(); // the lease issuer's payoff seam, and key revocation's certificate re-signing
        builder.Services.AddAgentApi(builder.Configuration);
        builder.Services.AddPush(builder.Configuration);
        using var host = builder.Build();
        var services = host.Services;
        await services.MigrateStorageAsync();
        var tokens = new DeviceTokens(clock, Microsoft.Extensions.Options.Options.Create(new DeviceOptions()));
        await tokens.LoadAsync(services);

        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LienDb>();
        if (await db.Devices.AnyAsync())
        {
            await Console.Error.WriteLineAsync($"{dataDir} already holds devices; delete lien.db* there to seed again.");
            return 1;
        }
        var box = scope.ServiceProvider.GetRequiredService<SecretBox>();
        var now = DateTimeOffset.FromUnixTimeSeconds(clock.GetUtcNow().ToUnixTimeSeconds());
        var settings = new LenderSettings("Bench Phones", null, "0800 723 000", "*483*7#", null, "Africa/Nairobi", "KES", "standard", 72);
        var (lender, _) = await db.InTransactionAsync(() =>
            scope.ServiceProvider.GetRequiredService<LenderSetup>().CreateAsync(settings, "bench"));
        var key = await SigningKeys.ActiveAsync(db, lender.Id, default);
        // The rows below are written on a connection of the seed's own, in another journal mode: the file to itself.
        await scope.ServiceProvider.GetRequiredService<SqliteWriter>().CloseAsync(default);
        SqliteConnection.ClearAllPools();
        // What registration decides for a device without a plan: its first lease, Unlocked.
        var decision = Policy.Evaluate(new PolicyInput(lender.Terms(), null, 0, false, null), now);
        var screenJson = JsonSerializer.Serialize(decision.Screen, LeaseClaims.Json);
        using var deviceKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var spki = deviceKey.ExportSubjectPublicKeyInfo(); // one enrollment key for the whole fleet: check-in never reads it

        var ids = new Guid[count];
        var batches = Channel.CreateBounded<SeededDevice[]>(2);
        var signing = Task.Run(async () =>
        {
            for (var start = 0; start < count; start += Batch)
            {
                var batch = new SeededDevice[Math.Min(Batch, count - start)];
                var first = start;
                // SigningKeys holds one opened key (and lock) per kid, so each worker gets its own to sign on every core.
                Parallel.For(0, batch.Length, () => new LeaseSigner(new SigningKeys(box)), (i, _, signer) =>
                {
                    var n = first + i;
                    var created = now - TimeSpan.FromMilliseconds(count - n); // distinct instants: ids in key order
                    var id = Guid.CreateVersion7(created);
                    var imei = BenchImei(n);
                    var claims = new LeaseClaims(lender.Id, id, [imei], 1, now, decision.Mode, decision.UnlockedUntil, decision.Screen, decision.Reason);
                    batch[i] = new SeededDevice(id, imei, created, signer.Sign(key, claims));
                    return signer;
                }, _ => { });
                await batches.Writer.WriteAsync(batch);
            }
            batches.Writer.Complete();
        });

        await using (var connection = new SqliteConnection(db.Database.GetConnectionString()))
        {
            await connection.OpenAsync();
            await Exec(connection, "PRAGMA journal_mode=DELETE; PRAGMA synchronous=OFF; PRAGMA cache_size=-1000000;");
            var insert = new FleetInsert(connection, lender.Id, key.Kid, now, decision, screenJson, spki);
            var done = 0;
            await foreach (var batch in batches.Reader.ReadAllAsync())
            {
                await using var tx = connection.BeginTransaction();
                insert.Enlist(tx);
                foreach (var device in batch)
                {
                    insert.Add(device);
                    ids[done++] = device.Id;
                }
                await tx.CommitAsync();
                if (done % 200_000 == 0 || done == count)
                    Console.WriteLine($"  {done:N0} devices, {clock.GetElapsedTime(started).TotalSeconds:F0} s");
            }
            await signing;
            // The server expects WAL (MigrateStorageAsync sets it once per file).
            await Exec(connection, "PRAGMA journal_mode=WAL;");
        }

        // Check the rows the way the server reads them, through EF.
        var sample = ids[Random.Shared.Next(count)];
        var row = await db.Devices.AsNoTracking().SingleAsync(d => d.Id == sample);
        if (row.LeaseSeq != 1 || row.TokenEpoch != 1 || await db.DeviceImeis.CountAsync(c => c.DeviceId == sample) != 1)
            throw new InvalidOperationException($"Device {sample} did not read back as seeded.");

        var picked = Random.Shared.GetItems(ids, Math.Min(tokenCount, count));
        await File.WriteAllLinesAsync(tokensFile, picked.Select(id => tokens.Issue(id, 1)));
        var seconds = clock.GetElapsedTime(started).TotalSeconds;
        var bytes = new FileInfo(Path.Combine(dataDir, "lien.db")).Length;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"seeded {count:N0} devices in {seconds:F1} s; database {bytes / 1024.0 / 1024:F0} MiB; {picked.Length:N0} tokens in {tokensFile}"));
        return 0;
    }

    // Valid IMEIs (Luhn) with a TAC of their own, so they never meet the demo's.
    private static string BenchImei(int n) => Imei.WithCheckDigit(string.Create(CultureInfo.InvariantCulture, $"86{n:000000000000}"));

    private static async Task Exec(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The three prepared inserts one device needs: its row, its IMEI claim, its lease record.</summary>
    private sealed class FleetInsert
    {
        private readonly SqliteCommand _device, _claim, _lease;

        public FleetInsert(SqliteConnection connection, Guid lenderId, string kid, DateTimeOffset now, PolicyDecision lease, string screenJson, byte[] spki)
        {
            object until = lease.UnlockedUntil is { } u ? Instant.ConvertToProvider(u)! : DBNull.Value;
            var issued = Instant.ConvertToProvider(now)!;
            var mode = lease.Mode.ToString();
            _device = Command(connection, """
                INSERT INTO "Devices" ("Id", "LenderId", "Imei", "Imei2", "Serial", "Make", "Model", "CreatedAt", "ReleasedAt", "PublicKey",
                    "EnrolledAt", "TokenEpoch", "AppliedSeq", "LeaseSeq", "LeaseMode", "LeaseUnlockedUntil", "LeaseJws", "CodeStartingCode", "CodeCount")
                VALUES ($id, $lender, $imei, NULL, $serial, 'Tecno', 'Spark 20', $created, NULL, $spki,
                    $issued, 1, 1, 1, $mode, $until, $jws, 0, 0)
                """, ("$lender", lenderId), ("$spki", spki), ("$issued", issued), ("$mode", mode), ("$until", until));
            _claim = Command(connection, """
                INSERT INTO "DeviceImeis" ("Imei", "DeviceId", "LenderId", "ReleasedAt") VALUES ($imei, $id, $lender, NULL)
                """, ("$lender", lenderId));
            _lease = Command(connection, """
                INSERT INTO "Leases" ("DeviceId", "Seq", "LenderId", "Mode", "IssuedAt", "UnlockedUntil", "ScreenJson", "Reason", "Cause", "Kid", "Jws", "CreatedAt")
                VALUES ($id, 1, $lender, $mode, $issued, $until, $screen, $reason, 'registered', $kid, $jws, $issued)
                """, ("$lender", lenderId), ("$mode", mode), ("$issued", issued), ("$until", until), ("$screen", screenJson),
                ("$reason", lease.Reason), ("$kid", kid));
        }

        public void Enlist(SqliteTransaction tx) => _device.Transaction = _claim.Transaction = _lease.Transaction = tx;

        public void Add(SeededDevice d)
        {
            Set(_device, ("$id", d.Id), ("$imei", d.Imei), ("$serial", $"BENCH{d.Imei[^8..]}"), ("$created", Instant.ConvertToProvider(d.CreatedAt)!), ("$jws", d.Jws));
            Set(_claim, ("$imei", d.Imei), ("$id", d.Id));
            Set(_lease, ("$id", d.Id), ("$jws", d.Jws));
        }

        private static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object Value)[] fixedValues)
        {
            var command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var (name, value) in fixedValues) command.Parameters.AddWithValue(name, value);
            return command;
        }

        private static void Set(SqliteCommand command, params (string Name, object Value)[] values)
        {
            foreach (var (name, value) in values)
            {
                var index = command.Parameters.IndexOf(name);
                if (index >= 0) command.Parameters[index].Value = value;
                else command.Parameters.AddWithValue(name, value);
            }
            command.ExecuteNonQuery();
        }
    }
}
