using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Lien.Server.Audit;
using Lien.Server.Devices;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Lien.Server.DeviceTrust;

/// <summary>Settings of enrollment tokens: <c>Lien:Enrollment:TokenLifetime</c> (default 7 days).</summary>
internal sealed class EnrollmentOptions
{
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromDays(7);
}

/// <summary>What became of a request for a device's enrollment token.</summary>
internal abstract record TokenOutcome
{
    public sealed record Issued(Device Device, string Token, DateTimeOffset ExpiresAt) : TokenOutcome;
    public sealed record NoSuchDevice : TokenOutcome;
    public sealed record Released : TokenOutcome;
}

/// <summary>
/// One-time enrollment tokens: issued by the lender for one registered device (shown once; only a hash is kept), spent
/// by the enrollment they let in. A token is 22 characters of base64url (128 random bits).
/// </summary>
internal sealed class EnrollmentTokenIssuer(LienDb db, AuditTrail audit, TimeProvider time, IOptions<EnrollmentOptions> options)
{
    /// <summary>A new token for <paramref name="deviceId"/>; the device's unspent earlier tokens stop working.</summary>
    public Task<TokenOutcome> IssueAsync(Guid lenderId, Guid deviceId, string actor, CancellationToken ct) =>
        db.InTransactionAsync<TokenOutcome>(async () =>
        {
            await db.LockLenderIfRedoingAsync(lenderId, ct);
            var device = await db.Devices.AsNoTracking().FirstOrDefaultAsync(d => d.Id == deviceId && d.LenderId == lenderId, ct);
            if (device is null) return new TokenOutcome.NoSuchDevice();
            if (device.ReleasedAt is not null) return new TokenOutcome.Released();
            var now = time.GetUtcNow();
            await db.EnrollmentTokens.Where(t => t.DeviceId == deviceId && t.SpentAt == null && t.RevokedAt == null)
                .ExecuteUpdateAsync(u => u.SetProperty(t => t.RevokedAt, now), ct);
            var token = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));
            var expires = now + options.Value.TokenLifetime;
            db.EnrollmentTokens.Add(new EnrollmentToken
            {
                Id = Guid.CreateVersion7(now), LenderId = lenderId, DeviceId = deviceId, Hash = Hash(token), CreatedAt = now, ExpiresAt = expires,
            });
            await audit.RecordAsync(lenderId, actor, AuditAction.EnrollmentTokenIssued, $"device:{deviceId}", data: new { expiresAt = expires }, ct: ct);
            return new TokenOutcome.Issued(device, token, expires);
        }, ct);

    /// <summary>
    /// Spends <paramref name="token"/> for <paramref name="deviceId"/> inside the enrollment's unit of work; null when it
    /// did, else why not. A token of another device, spent, revoked or expired, or unknown, lets nothing in.
    /// </summary>
    public async Task<string?> SpendAsync(Guid deviceId, string? token, CancellationToken ct)
    {
        if (token is not { Length: > 0 }) return "this lender enrolls phones with the enrollment token from the provisioning QR code; none was sent.";
        var hash = Hash(token);
        var now = time.GetUtcNow();
        var row = await db.EnrollmentTokens.FirstOrDefaultAsync(t => t.Hash == hash, ct);
        if (row is null || row.DeviceId != deviceId) return "the enrollment token is not one issued for this device.";
        if (row.SpentAt is not null) return "the enrollment token was used already; the lender can issue a new one.";
        if (row.RevokedAt is not null) return "the enrollment token was replaced by a newer one.";
        if (row.ExpiresAt <= now) return "the enrollment token has expired; the lender can issue a new one.";
        row.SpentAt = now; // the row's own unit of work: a second enrollment racing for it conflicts and is retried, then refused
        return null;
    }

    private static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}
