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
/// <param name="Refused">Events not chained because they are not Lien's: their MAC does not verify, or they repeat a chained event.</param>
internal sealed record ChainReport(long Checked, long? BrokenAt, string? Problem, AuditCheckpoint? Checkpoint, long Refused = 0)
{
    public bool Intact => BrokenAt is null;
}

/// <summary>
/// The keyed chain over a lender's audit events, in two keyed steps, both HMAC-SHA256 under keys derived from the
/// master key. When an event is written, in its change's transaction, its <see cref="MacOf">MAC</see> covers what it
/// says: a canonical encoding of exactly what the database stores (time at whole milliseconds, which both SQLite's
/// 0.1 ms and PostgreSQL's 1 µs keep) and the event's own id. When <see cref="AuditSequencer"/> chains it after commit,
/// its hash covers that MAC, its seq and the previous event's hash. Without the master key nobody can write an event
/// the sequencer chains, nor a chain that verifies; signed checkpoints of the head (<see cref="AuditCheckpointer"/>)
/// catch the newest events being deleted, which a chain alone cannot. Events chained before the MAC existed
/// (<c>lien-audit-v2</c>: one hash over everything) still verify as they were written.
/// </summary>
internal sealed class AuditChain(SecretBox box)
{
    public const string Genesis = "genesis";
    private const string LegacyVersion = "lien-audit-v2";
    private const string Version = "lien-audit-v3";
    private const string ContentVersion = "lien-audit-event-v1";
    private readonly byte[] _chainKey = box.DeriveKey("audit-chain");
    private readonly byte[] _macKey = box.DeriveKey("audit-event");

    /// <summary>An instant as stored and hashed: UTC, whole milliseconds.</summary>
    public static DateTimeOffset Stored(DateTimeOffset at) =>
        new(at.UtcTicks - at.UtcTicks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);

    /// <summary>The MAC of what the event says (everything stored but its place in the chain), written with the event.</summary>
    public string MacOf(AuditEvent e) => Convert.ToHexStringLower(HMACSHA256.HashData(_macKey, Content(e)));

    /// <summary>The event's chain hash, from its place in the chain (seq, previous hash) and its MAC.</summary>
    public string HashOf(AuditEvent e) => Convert.ToHexStringLower(HMACSHA256.HashData(_chainKey, Canonical(e)));

    /// <summary>True when the event carries a MAC and it is the MAC of what the event now says: Lien wrote it, unchanged.</summary>
    public bool IsAuthentic(AuditEvent e) => e.Mac is not null && SameHex(e.Mac, MacOf(e));

    /// <summary>The bytes an event's MAC covers: what it says, in order, as a JSON array.</summary>
    public static byte[] Content(AuditEvent e) => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new object?[]
    {
        ContentVersion, e.EventId?.ToString("D"), e.LenderId.ToString("D"), Millis(e.At), e.Actor, e.Action, e.Subject, e.Reason, e.Policy, e.Data,
    }));

    /// <summary>
    /// The bytes an event's chain hash covers, as a JSON array: its place in the chain and its MAC; for an event chained
    /// before MACs (no <see cref="AuditEvent.Mac"/>), its place and every stored field.
    /// </summary>
    public static byte[] Canonical(AuditEvent e) => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(e.Mac is null
        ? new object?[] { LegacyVersion, e.PrevHash, e.LenderId.ToString("D"), e.Seq, Millis(e.At), e.Actor, e.Action, e.Subject, e.Reason, e.Policy, e.Data }
        : new object?[] { Version, e.PrevHash, e.LenderId.ToString("D"), e.Seq, e.Mac }));

    private static string Millis(DateTimeOffset at) => at.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);

    private static bool SameHex(string a, string b) => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(a), Encoding.ASCII.GetBytes(b));

    /// <summary>
    /// Walks the lender's chain from seq 1 and holds it against the newest checkpoint whose signature verifies with the
    /// lender's published keys: the first event that is missing, out of order, edited, or not linked to the one before
    /// is reported, and so is a chain that ends before a checkpoint's seq or differs from it there. Events not chained
    /// because they are not Lien's (written straight into the database) are counted, and break a chain otherwise whole
    /// just past its head.
    /// </summary>
    public async Task<ChainReport> VerifyAsync(LienDb db, Guid lenderId, CancellationToken ct)
    {
        var checkpoint = await NewestGenuineCheckpointAsync(db, lenderId, ct);
        var refused = await CountRefusedAsync(db, lenderId, ct);
        var prev = Genesis;
        long expected = 1, count = 0;
        var chained = db.AuditEvents.AsNoTracking().Where(x => x.LenderId == lenderId && x.Seq != null).OrderBy(x => x.Seq);
        await foreach (var e in chained.AsAsyncEnumerable().WithCancellation(ct))
        {
            if (e.Seq != expected)
                return new ChainReport(count, expected, $"Event {expected} is missing (the next stored event is {e.Seq}).", checkpoint, refused);
            if (e.PrevHash != prev)
                return new ChainReport(count, expected, $"Event {expected} does not link to event {expected - 1}: an event was inserted, deleted or edited.",
                    checkpoint, refused);
            if (e.Hash is null || !SameHex(e.Hash, HashOf(e)) || (e.Mac is not null && !IsAuthentic(e)))
                return new ChainReport(count, expected, $"Event {expected} was changed after it was written (its hash does not verify).", checkpoint, refused);
            if (checkpoint is not null && e.Seq == checkpoint.Seq && e.Hash != checkpoint.Hash)
                return new ChainReport(count, expected, $"Event {expected} differs from the signed checkpoint of {checkpoint.At:O}.", checkpoint, refused);
            prev = e.Hash;
            expected++;
            count++;
        }
        if (checkpoint is not null && count < checkpoint.Seq)
            return new ChainReport(count, count + 1,
                $"The chain ends at event {count}, but the signed checkpoint of {checkpoint.At:O} covers events up to {checkpoint.Seq}: the newest events were deleted.",
                checkpoint, refused);
        if (refused > 0)
            return new ChainReport(count, count + 1,
                $"{refused} stored event(s) after event {count} are not in the chain: their MAC does not verify or they repeat a chained event, so they were written into the database outside Lien.",
                checkpoint, refused);
        return new ChainReport(count, null, null, checkpoint);
    }

    private async Task<long> CountRefusedAsync(LienDb db, Guid lenderId, CancellationToken ct)
    {
        var unchained = await db.AuditEvents.AsNoTracking().Where(x => x.LenderId == lenderId && x.Seq == null).OrderBy(x => x.Id).ToListAsync(ct);
        return (await RefusedAsync(db, unchained, ct)).Count;
    }

    /// <summary>
    /// Of events not yet chained (in id order), the ids of those Lien did not write, which are never chained: a MAC that
    /// does not verify (forged or edited), or an event already chained, or earlier in the list, again (a copied row).
    /// </summary>
    public async Task<HashSet<long>> RefusedAsync(LienDb db, IReadOnlyList<AuditEvent> unchained, CancellationToken ct)
    {
        if (unchained.Count == 0) return [];
        var ids = unchained.Select(x => x.EventId).Distinct().ToList();
        var seen = (await db.AuditEvents.Where(x => x.Seq != null && ids.Contains(x.EventId)).Select(x => x.EventId).ToListAsync(ct)).ToHashSet();
        return unchained.Where(e => !IsAuthentic(e) || !seen.Add(e.EventId)).Select(e => e.Id).ToHashSet();
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
