using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Lien.Protocol;
using Lien.Server.Api;
using Lien.Server.Audit;
using Lien.Server.AgentApi;
using Lien.Server.Codes;
using Lien.Server.Devices;
using Lien.Server.Lenders;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.AgentApi;

/// <summary>The agent's side of the API: enrollment by IMEI, then authenticated check-ins. See docs/PROTOCOL.md.</summary>
internal static class DeviceApiEndpoints
{
    public static readonly TimeSpan CheckInInterval = TimeSpan.FromHours(6);
    public static readonly TimeSpan LockedCheckInInterval = TimeSpan.FromMinutes(15);

    public static IServiceCollection AddDeviceApi(this IServiceCollection services)
    {
        services.AddSingleton<DeviceTokens>();
        services.AddSingleton<CheckInReader>();
        services.AddSingleton<LastSeenRecorder>();
        services.AddHostedService(sp => sp.GetRequiredService<LastSeenRecorder>());
        return services;
    }

    public static IEndpointRouteBuilder MapDeviceApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/v1/device").WithTags("Device API").AllowAnonymous();
        g.MapPost("/enroll", Enroll);
        g.MapPost("/checkin", CheckIn).WithDescription("Authorization: Device {token from enrollment}.");
        return app;
    }

    private static async Task<Results<Ok<EnrollResponse>, ValidationProblem, ProblemHttpResult>> Enroll(EnrollRequest body, LienDb db,
        DeviceTokens tokens, AuditTrail audit, SecretBox box, TimeProvider time, CancellationToken ct)
    {
        var errors = new Errors();
        var imeis = body.Imeis ?? [];
        errors.Check(imeis.Count is 1 or 2, "imeis", "imeis must list the device's one or two IMEIs.");
        foreach (var imei in imeis)
            if (Imei.Problem(imei) is { } p) errors.Add("imeis", p);
        byte[]? spki = null;
        try
        {
            spki = Convert.FromBase64String(body.PublicKey ?? "");
            using var key = ECDsa.Create();
            key.ImportSubjectPublicKeyInfo(spki, out _);
            if (key.KeySize != 256) errors.Add("publicKey", "publicKey must be a P-256 key.");
            else if (!Base64Url.IsValid(body.Signature ?? "") || !key.VerifyData(
                         Encoding.UTF8.GetBytes(EnrollRequest.SigningInput(imeis, body.PublicKey!, body.SignedAt)),
                         Base64Url.DecodeFromChars(body.Signature), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
                errors.Add("signature", "signature does not verify with publicKey over the enrollment signing input.");
        }
        catch (Exception e) when (e is FormatException or CryptographicException)
        {
            errors.Add("publicKey", "publicKey must be a base64 SubjectPublicKeyInfo of a P-256 key.");
        }
        if (errors.Any) return errors.Problem();

        return await db.InTransactionAsync<Results<Ok<EnrollResponse>, ValidationProblem, ProblemHttpResult>>(async () =>
        {
            var claims = await db.DeviceImeis.AsNoTracking().Where(c => imeis.Contains(c.Imei)).ToListAsync(ct);
            var live = claims.Where(c => c.ReleasedAt is null).Select(c => c.DeviceId).Distinct().ToList();
            if (live.Count > 1) return Problems.Conflict("These IMEIs are registered to different devices; the lender must correct the registration.");
            // No live registration: a released phone is told it is free (the most recent release wins).
            var deviceId = live.Count == 1 ? live[0] : claims.OrderByDescending(c => c.ReleasedAt).Select(c => (Guid?)c.DeviceId).FirstOrDefault();
            if (deviceId is null)
                return TypedResults.Problem(statusCode: 404, title: "IMEI not registered",
                    detail: "No lender has registered this device's IMEI. A phone that is not financed needs no enrollment.",
                    type: "https://lien.dev/problems/imei-not-registered");
            var device = await db.Devices.FirstAsync(d => d.Id == deviceId, ct);
            var lender = await db.Lenders.AsNoTracking().FirstAsync(l => l.Id == device.LenderId, ct);
            var reenroll = device.EnrolledAt is not null;
            device.PublicKey = spki;
            device.EnrolledAt = time.GetUtcNow();
            device.TokenEpoch++;
            await audit.RecordAsync(device.LenderId, $"device:{device.Id}", reenroll ? "device.re-enrolled" : "device.enrolled", $"device:{device.Id}",
                reenroll ? "The device enrolled again with a new key (factory reset or reinstall)." : null, ct: ct);
            var now = time.GetUtcNow();
            // The code secret travels only here, sealed to the key that just proved itself.
            var codes = new OfflineCodes(SealedCodeSecret.Seal(CodeEndpoints.EnsureSecret(device, box), spki!, device.Id), device.CodeStartingCode,
                device.CodeCount, lender.CodeRestrictedDigitSet, lender.CodeTimeDivider);
            return TypedResults.Ok(new EnrollResponse(device.Id, device.LenderId, tokens.Issue(device.Id, device.TokenEpoch), device.LeaseSeq,
                device.LeaseJws, LenderEndpoints.TrustKeys(lender.TrustKeysJson), NextCheckIn(now, device.LeaseMode, device.LeaseUnlockedUntil), now, codes));
        }, ct);
    }

    private static async Task<Results<CheckInAnswer, ProblemHttpResult>> CheckIn(CheckInRequest? body, HttpRequest request, LienDb db,
        CheckInReader reader, DeviceTokens tokens, LastSeenRecorder lastSeen, Acks acks, TimeProvider time, CancellationToken ct)
    {
        if (await reader.AuthenticateAsync(db, tokens, request.Headers.Authorization.ToString(), ct) is not var (deviceId, row))
            return DeviceTokens.Unauthorized();
        var now = time.GetUtcNow();
        lastSeen.Saw(deviceId, now);
        if (body is { AppliedSeq: var applied } && applied > row.AppliedSeq && applied <= row.LeaseSeq)
            await acks.RecordAsync(db, deviceId, applied, ct);
        if (body?.PushToken is { Length: > 0 and <= 1024 } push)
            using (await db.WriteGateAsync(ct))
                await db.Devices.Where(d => d.Id == deviceId && (d.PushToken == null || d.PushToken != push)).ExecuteUpdateAsync(u => u.SetProperty(d => d.PushToken, push), ct);
        return new CheckInAnswer(row.LeaseSeq, row.LeaseJws, CheckInAnswer.TrustKeys(row.TrustKeysJson),
            NextCheckIn(now, row.LeaseMode, row.LeaseUnlockedUntil), now);
    }

    /// <summary>Often enough to renew the lease before it runs out; more often while locked, so a payment is seen soon even without the stream.</summary>
    public static DateTimeOffset NextCheckIn(DateTimeOffset now, LeaseMode mode, DateTimeOffset? until)
    {
        if (mode == LeaseMode.Locked) return now + LockedCheckInInterval;
        var next = now + CheckInInterval;
        if (until is { } u && u - TimeSpan.FromHours(1) < next) next = u - TimeSpan.FromHours(1);
        return next < now + TimeSpan.FromMinutes(5) ? now + TimeSpan.FromMinutes(5) : next;
    }
}
