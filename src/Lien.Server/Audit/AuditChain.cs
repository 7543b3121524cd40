using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Lien.Protocol;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Audit;

/// <summary>What a walk of a lender's audit chain found.</summary>
/// <param name="Checked">Events that verified, from seq 1, before the first break.</param>
/// <param name="BrokenAt">The first seq that does not verify (or is missing); null when the chain is whole.</param>
/// <param name="Problem">Why, in words; null when whole.</param>
/// <param name="Checkpoint">The newest signed checkpoint the chain was held against, if any.</param>
internal sealed record ChainReport(long Checked, long? BrokenAt, string? Problem, AuditCheckpoint? Checkpoint)
{
    public bool Intact => BrokenAt is null;
}

/// <summary>
/// The keyed hash chain over a lender's audit events. Each event's hash is an HMAC-SHA256, under a key derived from the
/// master key, of a canonical encoding of exactly what the database stores (time at whole milliseconds, which both
/// SQLite's 0.1 ms and PostgreSQL's 1 µs keep), including the previous event's hash. Without the master key nobody can
/// produce a chain that verifies; signed checkpoints of the head (<see cref="AuditCheckpointer"/>) catch the newest
/// events being deleted, which a chain alone cannot.
/// </summary>
internal sealed class AuditChain(SecretBox box)
{
    public const string Genesis = "genesis";
    private const string Version = "lien-audit-v2";
    private readonly byte[] _key = box.DeriveKey("audit-chain");

    /// <summary>An instant as stored and hashed: UTC, whole milliseconds.</summary>
    public static DateTimeOffset Stored(DateTimeOffset at) =>
        new(at.UtcTicks - at.UtcTicks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);

    public string HashOf(AuditEvent e) => Convert.ToHexStringLower(HMACSHA256.HashData(_key, Canonical(e)));

    /// <summary>The bytes an event's hash covers: every stored field, in order, as a JSON array.</summary>
    public static byte[] Canonical(AuditEvent e) => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new object?[]
    {
        Version, e.PrevHash, e.LenderId.ToString("D"), e.Seq, e.At.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
        e.Actor, e.Action, e.Subject, e.Reason, e.Policy, e.Data,
    }));

    /// <summary>
    /// Walks the lender's chain from seq 1 and holds it against the newest checkpoint whose signature verifies with the
    /// lender's published keys: the first event that is missing, out of order, edited, or not linked to the one before
    /// is reported, and so is a chain that ends before a checkpoint's seq or differs from it there.
    /// </summary>
    public async Task<ChainReport> VerifyAsync(LienDb db, Guid lenderId, CancellationToken ct)
    {
        var checkpoint = await NewestGenuineCheckpointAsync(db, lenderId, ct);
        var prev = Genesis;
        long expected = 1, count = 0;
        await foreach (var e in db.AuditEvents.AsNoTracking().Where(x => x.LenderId == lenderId).OrderBy(x => x.Seq).AsAsyncEnumerable().WithCancellation(ct))
        {
            if (e.Seq != expected)
                return new ChainReport(count, expected, $"Event {expected} is missing (the next stored event is {e.Seq}).", checkpoint);
            if (e.PrevHash != prev)
                return new ChainReport(count, expected, $"Event {expected} does not link to event {expected - 1}: an event was inserted, deleted or edited.", checkpoint);
            if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(e.Hash), Encoding.ASCII.GetBytes(HashOf(e))))
                return new ChainReport(count, expected, $"Event {expected} was changed after it was written (its hash does not verify).", checkpoint);
            if (checkpoint is not null && e.Seq == checkpoint.Seq && e.Hash != checkpoint.Hash)
                return new ChainReport(count, expected, $"Event {expected} differs from the signed checkpoint of {checkpoint.At:O}.", checkpoint);
            prev = e.Hash;
            expected++;
            count++;
        }
        if (checkpoint is not null && count < checkpoint.Seq)
            return new ChainReport(count, count + 1,
                $"The chain ends at event {count}, but the signed checkpoint of {checkpoint.At:O} covers events up to {checkpoint.Seq}: the newest events were deleted.",
                checkpoint);
        return new ChainReport(count, null, null, checkpoint);
    }

    /// <summary>Checks a checkpoint's JWS with the lender's published keys and that its claims match its row.</summary>
    public static bool IsGenuine(AuditCheckpoint c, IReadOnlyList<TrustKey> keys) =>
        AuditCheckpointClaims.Verify(c.Jws, keys) is { } claims && claims.LenderId == c.LenderId && claims.Seq == c.Seq && claims.Hash == c.Hash;

    // A checkpoint row a database writer forged (or moved) does not verify, and is passed over for the one before it.
    private static async Task<AuditCheckpoint?> NewestGenuineCheckpointAsync(LienDb db, Guid lenderId, CancellationToken ct)
    {
        var lender = await db.Lenders.AsNoTracking().FirstOrDefaultAsync(l => l.Id == lenderId, ct);
        if (lender is null) return null;
        var keys = lender.TrustKeys();
        var recent = await db.AuditCheckpoints.AsNoTracking().Where(c => c.LenderId == lenderId).OrderByDescending(c => c.Seq).Take(20).ToListAsync(ct);
        return recent.FirstOrDefault(c => IsGenuine(c, keys));
    }
}
