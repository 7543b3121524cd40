using System.Buffers.Text;
using Lien.Protocol;
using Lien.Server.DeviceTrust;
using Lien.Server.Api;
using Lien.Server.Disputes;
using Lien.Server.Codes;
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
        services.Configure<DeviceOptions>(config.GetSection("Lien:Device"));
        services.Configure<RateLimitOptions>(config.GetSection("Lien:RateLimits"));
        services.AddSingleton<RateLimits>();
        services.AddSingleton<DeviceTokens>();
        services.AddSingleton<AnswerKeys>();
        services.AddSingleton<CheckInReader>();
        services.AddSingleton<LastSeenRecorder>();
        services.AddHostedService(sp => sp.GetRequiredService<LastSeenRecorder>());
        services.AddSingleton<StreamBursts>();
        services.AddSingleton<StreamHub>();
        services.AddSingleton<AppliedLeases>();
        services.AddSingleton<LeaseAnnouncements>();
        services.AddHostedService<PostgresLeaseListener>();
        services.AddSingleton<ILeaseDelivery, LeaseDelivery>();
        services.AddScoped<DeviceEnrollment>();
        return services;
    }

    public static IEndpointRouteBuilder MapAgentApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/v1/device").WithTags("Device API").AllowAnonymous();
        g.MapPost("/enroll/challenge", Challenge).RateLimitedByAddress(RateLimitPolicy.ChallengePerAddress)
            .WithDescription("A single-use challenge for the next enrollment (10 minutes), and the server's time to sign it with.");
        g.MapPost("/enroll", Enroll).RateLimitedByAddress(RateLimitPolicy.EnrollPerAddress)
            .WithDescription("Protocol v2: signed over the challenge and the device's nonce; with an attestation chain and/or enrollment token as the lender's policy asks.");
        g.MapPost("/checkin", CheckIn).WithDescription("Authorization: Device {token from enrollment}.");
        g.MapGet("/stream", LeaseStream.Stream)
            .WithDescription("Server-Sent Events: `event: lease` with `data: {\"seq\":N,\"lease\":\"<jws>\"}`. Authorization: Device {token}.");
        g.MapPost("/ack", Ack).WithDescription("The device applied lease `seq`. Authorization: Device {token}.");
        g.MapPost("/dispute", Dispute).WithDescription(
            "The borrower disputes the plan from the phone's Contact/Help: kind Paid (\"I have paid\", with transactionReference) or Other (with text). Authorization: Device {token}.");
        g.MapPost("/renew", Renew).WithDescription("A fresh device token for an expired one, signed by the device's enrolled key.");
        return app;
    }

    private static Ok<EnrollmentChallenge> Challenge(EnrollmentChallenges challenges) => TypedResults.Ok(challenges.Issue());

    private static async Task<Results<SignedAnswer, ValidationProblem, ProblemHttpResult>> Enroll(EnrollRequest body, DeviceEnrollment enrollment,
        EnrollmentChallenges challenges, AttestationCheck attestation, RateLimits limits, SigningKeys signingKeys, HttpResponse response, TimeProvider time,
        CancellationToken ct)
    {
        var errors = new Errors();
        var imeis = body.Imeis ?? [];
        errors.Check(imeis.Count is 1 or 2, "imeis", "imeis must list the device's one or two IMEIs.");
        foreach (var imei in imeis.Take(2))
            if (Imei.Problem(imei) is { } p) errors.Add("imeis", p);
        // A P-256 SubjectPublicKeyInfo is 124 characters of base64 and an ES256 signature 86 of base64url.
        errors.Text(body.PublicKey, "publicKey", 512, required: true).Text(body.Signature, "signature", 256, required: true)
            .Text(body.Challenge, "challenge", 64, required: true).Text(body.EnrollmentToken, "enrollmentToken", 64)
            .Check(body.Nonce is { } n && IsNonce(n, 16), "nonce", "nonce must be base64url (no padding) of 16 to 64 random bytes.")
            .Check(SignedAt.IsCurrent(body.SignedAt, time.GetUtcNow()), "signedAt",
                "signedAt must be within 5 minutes of the server's time (unix seconds); sign with the serverTime of the challenge answer.");
        var chain = AttestationCheck.Decode(body.Attestation, errors);
        if (errors.Any) return errors.Problem();
        // Proof of possession: the request is signed by the key it enrolls (the same check a port of the agent can run).
        var proof = EnrollmentProof.Verify(body);
        if (proof is { Field: { } field, Problem: { } problem }) errors.Add(field, problem);
        var challenge = challenges.Read(body.Challenge);
        if (challenge.Problem is { } stale) errors.Add("challenge", stale);
        if (errors.Any) return errors.Problem();
        foreach (var imei in imeis)
            if (!limits.TryAcquire(RateLimitPolicy.EnrollPerImei, imei, out var retryAfter)) return RateLimits.TooMany(response, retryAfter);

        // The chain is checked before any row is read or locked: it is the costly part, and needs no database.
        AttestationEvidence? evidence = null;
        if (chain is not null)
        {
            var checkedChain = await attestation.CheckAsync(chain, challenge.Bytes!, proof.PublicKey!, ct);
            if (checkedChain is { Unavailable: true, Refusal: { } why })
                return TypedResults.Problem(statusCode: 503, title: "Attestation cannot be checked now", detail: why + " Try again later.");
            if (checkedChain.Refusal is { } refused) return Refused(refused);
            evidence = checkedChain.Evidence;
        }
        var claim = new EnrollmentClaim(imeis, proof.PublicKey!, challenge.Bytes!, challenge.ExpiresAt, body.Nonce, body.EnrollmentToken, evidence);
        switch (await enrollment.EnrollAsync(claim, ct))
        {
            case EnrollmentOutcome.Enrolled(var answer, var key):
                return SignedAnswer.ByLender(answer, key, signingKeys);
            case EnrollmentOutcome.NotRegistered:
                return TypedResults.Problem(statusCode: 404, title: "IMEI not registered",
                    detail: "No lender has registered this device's IMEI. A phone that is not financed needs no enrollment.",
                    type: "https://lien.dev/problems/imei-not-registered");
            case EnrollmentOutcome.Ambiguous:
                return Problems.Conflict("These IMEIs are registered to different devices; the lender must correct the registration.");
            case EnrollmentOutcome.Refused refusal:
                await enrollment.RecordRefusalAsync(refusal, ct);
                return Refused(refusal.Reason);
            case var other:
                throw new InvalidOperationException($"Unexpected enrollment outcome {other}.");
        }
    }

    private static ProblemHttpResult Refused(string reason) => TypedResults.Problem(statusCode: 403, title: "Enrollment refused",
        detail: "Enrollment refused: " + reason, type: "https://lien.dev/problems/enrollment-refused");

    // No LienDb parameter: a check-in that writes nothing (nearly all) rents no database context (CheckInReader.ReadAsync).
    private static async Task<Results<CheckInAnswer, ValidationProblem, ProblemHttpResult>> CheckIn(CheckInRequest? body, HttpRequest request,
        CheckInReader reader, DeviceTokens tokens, AnswerKeys answerKeys, LastSeenRecorder lastSeen, AppliedLeases applied, TimeProvider time,
        CancellationToken ct)
    {
        // Checked only when sent (rarely): every fleet device checks in, and this path allocates nothing it does not need.
        if (body?.PushToken is { Length: > 0 } sent && new Errors().Text(sent, "pushToken", 1024) is { Any: true } errors) return errors.Problem();
        if (body?.WrongCodes is < 0 or > CheckInRequest.MaxWrongCodes)
            return new Errors().Add("wrongCodes", $"wrongCodes must be between 0 and {CheckInRequest.MaxWrongCodes}.").Problem();
        if (body?.Nonce is { } nonce && !IsNonce(nonce, 1))
            return new Errors().Add("nonce", "nonce must be base64url (no padding) of 1 to 64 bytes.").Problem();
        if (body is { AppliedSeq: < 0 }) return new Errors().Add("appliedSeq", "appliedSeq must be 0 or more.").Problem();
        var services = request.HttpContext.RequestServices;
        var auth = await reader.AuthenticateAsync(services, request.Headers.Authorization.ToString(), ct);
        if (auth.Row is not { } row) return auth.Problem(request.HttpContext.Response);
        var deviceId = auth.Id;
        var now = time.GetUtcNow();
        lastSeen.Saw(deviceId, now);
        if (body is { AppliedSeq: var seq } && seq > row.LeaseSeq)
        {
            await applied.RefuseAsync(services.GetRequiredService<LienDb>(), deviceId, ct);
            return AboveIssued(seq, row.LeaseSeq);
        }
        if (body is not null && body.AppliedSeq > row.AppliedSeq)
            await applied.RecordAsync(services.GetRequiredService<LienDb>(), deviceId, row.LenderId, body.AppliedSeq, ct);
        if (body?.PushToken is { Length: > 0 } push)
        {
            var db = services.GetRequiredService<LienDb>();
            using (await db.WriteGateAsync(ct))
                await db.Devices.Where(d => d.Id == deviceId && (d.PushToken == null || d.PushToken != push)).ExecuteUpdateAsync(u => u.SetProperty(d => d.PushToken, push), ct);
        }
        if (body?.WrongCodes is { } wrong && wrong != row.WrongCodes) // resolved only then: check-in allocates nothing it does not need
            await services.GetRequiredService<WrongCodeReports>().RecordAsync(deviceId, row.TokenEpoch, row.WrongCodes, wrong, now, ct);
        return new CheckInAnswer(row.LeaseSeq, row.LeaseJws, CheckInAnswer.KeySet(row.KeySetJson),
            NextCheckIn(now, row.LeaseMode, row.LeaseUnlockedUntil), now, body?.Nonce, answerKeys, deviceId, row.TokenEpoch,
            tokens.DueForRenewal(auth.ExpiresUnix) ? tokens.Issue(deviceId, row.TokenEpoch) : null);
    }

    /// <summary>A device-chosen nonce: canonical base64url (no padding) of <paramref name="minBytes"/> to 64 bytes.</summary>
    internal static bool IsNonce(string nonce, int minBytes) =>
        nonce.Length <= 86 && Base64Url.IsValid(nonce, out var bytes) && bytes >= minBytes && bytes <= 64
        && Base64Url.EncodeToString(Base64Url.DecodeFromChars(nonce)) == nonce;

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Ack(HttpRequest request, LeaseAck body, CheckInReader reader,
        LienDb db, AppliedLeases applied, CancellationToken ct)
    {
        if (body.Seq < 1) return new Errors().Add("seq", "seq must be a lease seq, 1 or more.").Problem();
        var auth = await reader.AuthenticateAsync(request.HttpContext.RequestServices, request.Headers.Authorization.ToString(), ct);
        if (auth.Row is not { } row) return auth.Problem(request.HttpContext.Response);
        if (body.Seq > row.LeaseSeq)
        {
            await applied.RefuseAsync(db, auth.Id, ct);
            return AboveIssued(body.Seq, row.LeaseSeq);
        }
        await applied.RecordAsync(db, auth.Id, row.LenderId, body.Seq, ct); // and the stream stops resending
        return TypedResults.NoContent();
    }

    private static async Task<Results<Created<DisputeAnswer>, ValidationProblem, ProblemHttpResult>> Dispute(HttpRequest request, DisputeRequest body,
        CheckInReader reader, DisputeDesk desk, CancellationToken ct)
    {
        var errors = body.Validate();
        if (errors.Any) return errors.Problem();
        var auth = await reader.AuthenticateAsync(request.HttpContext.RequestServices, request.Headers.Authorization.ToString(), ct);
        if (auth.Row is null) return auth.Problem(request.HttpContext.Response);
        return DisputeEndpoints.Map(await desk.OpenForDeviceAsync(auth.Id, body, ct),
            d => TypedResults.Created($"/v1/device/dispute/{d.Id}", new DisputeAnswer(d.Id, d.OpenedAt, d.ExpiresAt)));
    }

    /// <summary>A device claiming a seq the server never issued: refused, and counted by the caller.</summary>
    public static ProblemHttpResult AboveIssued(long seq, long issued) => TypedResults.Problem(statusCode: 409,
        type: "https://lien.dev/problems/seq-not-issued", title: "Seq never issued",
        detail: $"Seq {seq} is above the highest lease seq issued to this device ({issued}); the refusal is counted.");

    private static async Task<Results<Ok<RenewResponse>, ValidationProblem, ProblemHttpResult>> Renew(RenewRequest body, LienDb db, DeviceTokens tokens,
        RateLimits limits, TimeProvider time, HttpResponse response, CancellationToken ct)
    {
        var errors = new Errors().Text(body.Signature, "signature", 256, required: true);
        if (errors.Any) return errors.Problem();
        if (!limits.TryAcquire(RateLimitPolicy.RenewPerDevice, body.DeviceId, out var retryAfter)) return RateLimits.TooMany(response, retryAfter);
        var now = time.GetUtcNow();
        var device = await db.Devices.AsNoTracking().Where(d => d.Id == body.DeviceId && d.PublicKey != null)
            .Select(d => new { d.PublicKey, d.TokenEpoch }).FirstOrDefaultAsync(ct);
        // One answer for every refusal, so it tells a guesser nothing: the device enrolls again.
        if (device is null || !SignedAt.IsCurrent(body.SignedAt, now)
            || !TokenRenewal.Verify(body, device.PublicKey!))
            return TypedResults.Problem(statusCode: 401, type: "https://lien.dev/problems/renewal-refused", title: "Renewal refused",
                detail: "The renewal is not signed by the device's current key, or signedAt is more than 5 minutes from the server's time; enroll again.");
        var token = tokens.Issue(body.DeviceId, device.TokenEpoch, out var expiresAt);
        return TypedResults.Ok(new RenewResponse(token, expiresAt));
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
