using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Audit;

/// <summary>
/// Appends audit events in the caller's unit of work. Each event's hash covers the previous one's, per lender,
/// so a deleted or edited row breaks the chain. Two writers that race for the same seq collide on a unique
/// index and the loser's unit of work is redone (see <see cref="Transactions"/>).
/// </summary>
internal sealed class AuditTrail(LienDb db, TimeProvider time)
{
    public const string Genesis = "genesis";
    private readonly Dictionary<Guid, AuditEvent> _heads = [];

    public async Task RecordAsync(Guid lenderId, string actor, AuditAction action, string subject,
        string? reason = null, string? policy = null, object? data = null, CancellationToken ct = default)
    {
        // The head written earlier in this unit of work, unless the unit was rolled back and redone since.
        if (!_heads.TryGetValue(lenderId, out var head) || db.Entry(head).State != EntityState.Added)
            head = await db.AuditEvents.AsNoTracking().Where(e => e.LenderId == lenderId)
                .OrderByDescending(e => e.Seq).FirstOrDefaultAsync(ct);
        var e = new AuditEvent
        {
            LenderId = lenderId,
            Seq = (head?.Seq ?? 0) + 1,
            At = time.GetUtcNow(),
            Actor = actor,
            Action = action.Name,
            Subject = subject,
            Reason = reason,
            Policy = policy,
            Data = data is null ? null : JsonSerializer.Serialize(data, Api.Json.Options),
            PrevHash = head?.Hash ?? Genesis,
            Hash = "",
        };
        e.Hash = HashOf(e);
        db.AuditEvents.Add(e);
        _heads[lenderId] = e;
    }

    public static string HashOf(AuditEvent e)
    {
        var canonical = JsonSerializer.Serialize(new object?[]
        {
            e.PrevHash, e.LenderId, e.Seq, e.At.UtcTicks.ToString(CultureInfo.InvariantCulture), e.Actor, e.Action,
            e.Subject, e.Reason, e.Policy, e.Data,
        });
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    /// <summary>Walks a lender's chain; returns the first seq that does not verify, or null when all do.</summary>
    public static async Task<(long Checked, long? BrokenAt)> VerifyAsync(LienDb db, Guid lenderId, CancellationToken ct)
    {
        var prev = Genesis;
        long expected = 1, count = 0;
        await foreach (var e in db.AuditEvents.AsNoTracking().Where(x => x.LenderId == lenderId).OrderBy(x => x.Seq).AsAsyncEnumerable().WithCancellation(ct))
        {
            if (e.Seq != expected || e.PrevHash != prev || e.Hash != HashOf(e)) return (count, expected);
            prev = e.Hash;
            expected++;
            count++;
        }
        return (count, null);
    }
}
