using System.Buffers.Text;
using Lien.Protocol;
using Lien.Server.Api;
using Lien.Server.Leases;
using Lien.Server.Lenders;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.AgentApi;

internal sealed record LeaseAck(long Seq);

/// <summary>
/// The API the device agent talks to, all under <c>/v1/device</c>: enrollment by IMEI, then check-ins, the lease
/// stream and lease acknowledgements, each authenticated by the device token (<see cref="CheckInReader.AuthenticateAsync"/>).
/// See docs/PROTOCOL.md.
/// </summary>
internal static class AgentApiEndpoints
{
    public static readonly TimeSpan CheckInInterval = TimeSpan.FromHours(6);
    public static readonly TimeSpan LockedCheckInInterval = TimeSpan.FromMinutes(15);

    public static IServiceCollection AddAgentApi(this IServiceCollection services, IConfiguration config)
    {
        services.Configure<StreamOptions>(config.GetSection("Lien:Stream"));
        services.AddSingleton<DeviceTokens>();
        services.AddSingleton<AnswerKeys>();
        services.AddSingleton<CheckInReader>();
        services.AddSingleton<LastSeenRecorder>();
        services.AddHostedService(sp => sp.GetRequiredService<LastSeenRecorder>());
        services.AddSingleton<StreamHub>();
        services.AddSingleton<AppliedLeases>();
        services.AddHostedService<PostgresLeaseListener>();
        services.AddSingleton<ILeaseDelivery, LeaseDelivery>();
        services.AddScoped<Enrollment>();
        return services;
    }

    public static IEndpointRouteBuilder MapAgentApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/v1/device").WithTags("Device API").AllowAnonymous();
        g.MapPost("/enroll", Enroll);
        g.MapPost("/checkin", CheckIn).WithDescription("Authorization: Device {token from enrollment}.");
        g.MapGet("/stream", LeaseStream.Stream)
            .WithDescription("Server-Sent Events: `event: lease` with `data: {\"seq\":N,\"lease\":\"<jws>\"}`. Authorization: Device {token}.");
        g.MapPost("/ack", Ack).WithDescription("The device applied lease `seq`. Authorization: Device {token}.");
        return app;
    }

    private static async Task<Results<SignedAnswer, ValidationProblem, ProblemHttpResult>> Enroll(EnrollRequest body, Enrollment enrollment,
        SigningKeys signingKeys, CancellationToken ct)
    {
        var errors = new Errors();
        var imeis = body.Imeis ?? [];
        errors.Check(imeis.Count is 1 or 2, "imeis", "imeis must list the device's one or two IMEIs.");
        foreach (var imei in imeis.Take(2))
            if (Imei.Problem(imei) is { } p) errors.Add("imeis", p);
        // A P-256 SubjectPublicKeyInfo is 124 characters of base64 and an ES256 signature 86 of base64url.
        errors.Text(body.PublicKey, "publicKey", 512, required: true).Text(body.Signature, "signature", 256, required: true);
        if (body.Nonce is not null) errors.Check(IsNonce(body.Nonce, 16), "nonce", "nonce must be base64url (no padding) of 16 to 64 bytes.");
        if (errors.Any) return errors.Problem();
        // Proof of possession: the request is signed by the key it enrolls (the same check a port of the agent can run).
        var proof = EnrollmentProof.Verify(body);
        if (proof is { Field: { } field, Problem: { } problem }) errors.Add(field, problem);
        if (errors.Any) return errors.Problem();

        return await enrollment.EnrollAsync(imeis, proof.PublicKey!, body.Nonce, ct) switch
        {
            EnrollmentOutcome.Enrolled(var answer, var key) => SignedAnswer.ByLender(answer, key, signingKeys),
            EnrollmentOutcome.NotRegistered => TypedResults.Problem(statusCode: 404, title: "IMEI not registered",
                detail: "No lender has registered this device's IMEI. A phone that is not financed needs no enrollment.",
                type: "https://lien.dev/problems/imei-not-registered"),
            EnrollmentOutcome.Ambiguous => Problems.Conflict("These IMEIs are registered to different devices; the lender must correct the registration."),
            var other => throw new InvalidOperationException($"Unexpected enrollment outcome {other}."),
        };
    }

    private static async Task<Results<CheckInAnswer, ValidationProblem, ProblemHttpResult>> CheckIn(CheckInRequest? body, HttpRequest request, LienDb db,
        CheckInReader reader, DeviceTokens tokens, AnswerKeys answerKeys, LastSeenRecorder lastSeen, AppliedLeases applied, TimeProvider time,
        CancellationToken ct)
    {
        // Checked only when sent (rarely): every fleet device checks in, and this path allocates nothing it does not need.
        if (body?.PushToken is { Length: > 0 } sent && new Errors().Text(sent, "pushToken", 1024) is { Any: true } errors) return errors.Problem();
        if (body?.Nonce is { } nonce && !IsNonce(nonce, 1))
            return new Errors().Add("nonce", "nonce must be base64url (no padding) of 1 to 64 bytes.").Problem();
        if (await reader.AuthenticateAsync(db, tokens, request.Headers.Authorization.ToString(), ct) is not var (deviceId, row))
            return DeviceTokens.Unauthorized();
        var now = time.GetUtcNow();
        lastSeen.Saw(deviceId, now);
        if (body is { AppliedSeq: var seq } && seq > row.AppliedSeq && seq <= row.LeaseSeq)
            await applied.RecordAsync(db, deviceId, seq, ct);
        if (body?.PushToken is { Length: > 0 } push)
            using (await db.WriteGateAsync(ct))
                await db.Devices.Where(d => d.Id == deviceId && (d.PushToken == null || d.PushToken != push)).ExecuteUpdateAsync(u => u.SetProperty(d => d.PushToken, push), ct);
        return new CheckInAnswer(row.LeaseSeq, row.LeaseJws, CheckInAnswer.KeySet(row.KeySetJson),
            NextCheckIn(now, row.LeaseMode, row.LeaseUnlockedUntil), now, body?.Nonce, answerKeys, deviceId, row.TokenEpoch);
    }

    /// <summary>A device-chosen nonce: canonical base64url (no padding) of <paramref name="minBytes"/> to 64 bytes.</summary>
    internal static bool IsNonce(string nonce, int minBytes) =>
        nonce.Length <= 86 && Base64Url.IsValid(nonce, out var bytes) && bytes >= minBytes && bytes <= 64
        && Base64Url.EncodeToString(Base64Url.DecodeFromChars(nonce)) == nonce;

    private static async Task<Results<NoContent, ProblemHttpResult>> Ack(HttpRequest request, LeaseAck body, DeviceTokens tokens, CheckInReader reader,
        LienDb db, AppliedLeases applied, CancellationToken ct)
    {
        if (await reader.AuthenticateAsync(db, tokens, request.Headers.Authorization.ToString(), ct) is not var (deviceId, _))
            return DeviceTokens.Unauthorized();
        await applied.RecordAsync(db, deviceId, body.Seq, ct); // and the stream stops resending
        return TypedResults.NoContent();
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
