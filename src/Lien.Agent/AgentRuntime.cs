using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Lien.Protocol;

namespace Lien.Agent;

/// <summary>How one call to the server went.</summary>
public enum CallOutcome
{
    /// <summary>Answered; <see cref="CallResult.NextIn"/> says when to check in again.</summary>
    Ok,
    /// <summary>401: the token is from an earlier enrollment (or expired and not renewable); enroll again now.</summary>
    Unauthorized,
    /// <summary>404 on enrollment: no lender finances this phone; stay dormant and retry daily.</summary>
    NotRegistered,
    /// <summary>Another 4xx: not retried before the next scheduled attempt.</summary>
    Rejected,
    /// <summary>No answer, a 5xx or a 429: retry with backoff.</summary>
    Failed,
    /// <summary>An answer whose signature or echoed nonce did not hold (counted in the state): retry with backoff.</summary>
    Refused,
}

/// <summary>The outcome of an enrollment or check-in and, when it succeeded, the wait until the next check-in.</summary>
public sealed record CallResult(CallOutcome Outcome, TimeSpan? NextIn = null);

/// <summary>
/// The agent's network side: enrolls, checks in (at boot, at <c>nextCheckInAt</c>, on Refresh, with backoff on failure),
/// holds the instant stream, acknowledges applied leases, and ticks the pure <see cref="Agent"/> so it locks on time.
/// All waiting goes through <see cref="TimeProvider"/>; every change of state is saved before its effects are carried out.
/// </summary>
/// <remarks>
/// <paramref name="provisioning"/>: what the provisioning QR code gave the phone (the one-time enrollment token; the RFC
/// 7638 thumbprint of the lender key it named, which the first key set the device takes must list, docs/PROTOCOL.md §1.4)
/// and the device's key attestation.
/// </remarks>
public sealed class AgentRuntime(HttpClient http, IAgentStore store, IDeviceClock clock, TimeProvider time, Random random,
    IReadOnlyList<string> imeis, IOfflineCodes? codes = null, AgentProvisioning? provisioning = null)
{
    /// <summary>How long the stream may stay silent (the server pings every ~25 s) before the agent reconnects.</summary>
    internal static readonly TimeSpan StreamIdleTimeout = TimeSpan.FromSeconds(75);

    /// <summary>The longest the agent waits between two looks at its clocks.</summary>
    internal static readonly TimeSpan TickInterval = TimeSpan.FromSeconds(30);

    /// <summary>How long a device whose IMEI nobody registered waits before asking again.</summary>
    internal static readonly TimeSpan DormantRetry = TimeSpan.FromDays(1);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TimeSpan _scheduled = DormantRetry;
    private volatile AgentState? _state; // written under _gate, read by every loop

    /// <summary>The current state (after <see cref="StartAsync"/>).</summary>
    public AgentState State => _state ?? throw new InvalidOperationException("The agent has not started.");

    /// <summary>What the device enforces right now, on its own clock.</summary>
    public LeaseMode Mode => State.EffectiveMode(State.TrustedNow(clock.Now));

    /// <summary>The lock screen right now.</summary>
    public LockScreenView Screen => LockScreenView.Of(State, State.TrustedNow(clock.Now));

    /// <summary>Raised for every effect (lock, unlock, screen, refusal …) after the state that caused it was saved.</summary>
    public event Action<AgentEffect>? Effect;

    /// <summary>Raised when the check-in loop starts waiting: how long until its next attempt (schedule or backoff).</summary>
    public event Action<CallOutcome, TimeSpan>? CheckInScheduled;

    /// <summary>Loads the saved state (or starts fresh with a new device key, as after a factory reset) and boots.</summary>
    public async Task StartAsync(CancellationToken ct = default)
    {
        _state = await store.LoadAsync(ct) ?? AgentState.New(DeviceKeys.NewIdentity(imeis) with { PinnedKey = provisioning?.LenderKeyThumbprint });
        await DispatchAsync(new Booted(clock.Now), ct);
    }

    /// <summary>Starts, then runs check-ins, the stream and the clock until <paramref name="ct"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        await StartAsync(ct);
        try
        {
            await Task.WhenAll(CheckInLoopAsync(ct), StreamLoopAsync(ct), ClockLoopAsync(ct));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>Feeds one event to the agent, saves the new state, then carries out the effects.</summary>
    public async Task<IReadOnlyList<AgentEffect>> DispatchAsync(AgentEvent e, CancellationToken ct = default)
    {
        IReadOnlyList<AgentEffect> effects;
        await _gate.WaitAsync(ct);
        try
        {
            (var next, effects) = Agent.Next(State, e, codes);
            if (!ReferenceEquals(next, _state)) await store.SaveAsync(next, ct);
            _state = next;
        }
        finally
        {
            _gate.Release();
        }
        foreach (var effect in effects)
        {
            switch (effect)
            {
                case Ack ack: await AckAsync(ack.Seq, ct); break;
                case CheckInNow or EnrollNow: Wake(); break;
            }
            Effect?.Invoke(effect);
        }
        return effects;
    }

    /// <summary>The borrower pressed Refresh.</summary>
    public Task RefreshAsync(CancellationToken ct = default) => DispatchAsync(new RefreshRequested(clock.Now), ct);

    /// <summary>
    /// Enrolls (PROTOCOL §1): asks for a challenge, makes a fresh device key for it (attested by the device's secure
    /// hardware when <see cref="AgentProvisioning.Attestation"/> is given), and sends the enrollment signed with it over the
    /// challenge, a fresh nonce and the provisioning's enrollment token. The answer must be signed by the lender and echo
    /// the nonce; only then does the new key become the device's.
    /// </summary>
    public async Task<CallResult> EnrollAsync(CancellationToken ct = default)
    {
        EnrollmentChallenge? challenge = null;
        var asked = await CallAsync<EnrollmentChallenge>("v1/device/enroll/challenge", new { }, token: null, c => challenge = c, ct);
        if (challenge is null) return asked;
        if (challenge is not { Challenge: { Length: > 0 } given } || !Base64Url.IsValid(given)) return new CallResult(CallOutcome.Failed);
        var identity = DeviceKeys.NewIdentity(State.Identity.Imeis) with { PinnedKey = State.Identity.PinnedKey ?? provisioning?.LenderKeyThumbprint };
        using var key = DeviceKeys.Open(identity);
        var chain = provisioning?.Attestation?.Attest(key.ExportSubjectPublicKeyInfo(), Base64Url.DecodeFromChars(challenge.Challenge), identity.Imeis);
        var nonce = EnrollmentProof.NewNonce();
        // Signed with the server's time: a phone whose clock is wrong after a reset can still enroll.
        var request = EnrollmentProof.Sign(identity.Imeis, key, challenge.ServerTime.ToUnixTimeSeconds(), nonce, challenge.Challenge, chain,
            provisioning?.EnrollmentToken);
        return await CallSignedAsync<EnrollResponse>("v1/device/enroll", request, token: null,
            (body, signature) => new Enrolled(body, signature, nonce, clock.Now, identity), r => r.NextCheckInAt - r.ServerTime, ct);
    }

    /// <summary>
    /// Checks in with the highest applied seq, the wrong-code count and a fresh nonce (PROTOCOL §2). A token the answer
    /// renews is kept; an expired one is renewed with the device key and the check-in made again; a 401 otherwise forgets
    /// the token, so the next step is enrollment. The signed <c>serverTime</c> serves only to turn <c>nextCheckInAt</c>
    /// into a wait on the device's own clock (so a wrong wall clock cannot move the schedule); it never sets a clock.
    /// </summary>
    public async Task<CallResult> CheckInAsync(CancellationToken ct = default)
    {
        for (var renewed = false; ; renewed = true)
        {
            if (State.Enrollment is not { } enrollment) return new CallResult(CallOutcome.Unauthorized);
            var nonce = EnrollmentProof.NewNonce();
            var result = await CallSignedAsync<CheckInResponse>("v1/device/checkin",
                new CheckInRequest(State.AppliedSeq, WrongCodes: codes?.WrongCodes(State), Nonce: nonce), enrollment.DeviceToken,
                (body, signature) => new CheckedIn(body, signature, nonce, clock.Now), r => r.NextCheckInAt - r.ServerTime, ct);
            if (!ReferenceEquals(result, Expired)) return result;
            if (renewed) return new CallResult(CallOutcome.Failed); // a token just renewed, expired at once: the clocks disagree
            var outcome = await RenewAsync(ct);
            if (outcome != CallOutcome.Ok) return new CallResult(outcome);
        }
    }

    /// <summary>
    /// The lock screen's Contact/Help: opens a dispute for the borrower — <c>Paid</c> ("I have paid", with the
    /// transaction reference) or <c>Other</c> (with their words) — and checks in, so a lock warning the dispute moved shows
    /// at once. Returns the server's answer (the latest instant the dispute holds a new lock back), or null with the outcome.
    /// </summary>
    public async Task<(CallOutcome Outcome, DisputeAnswer? Answer)> DisputeAsync(DisputeMessage dispute, CancellationToken ct = default)
    {
        if (State.Enrollment is not { } enrollment) return (CallOutcome.Unauthorized, null);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/device/dispute")
        {
            Content = JsonContent.Create(dispute, options: LeaseClaims.Json),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Device", enrollment.DeviceToken);
        using var response = await http.SendAsync(request, ct);
        if (response.StatusCode == HttpStatusCode.Unauthorized) return (CallOutcome.Unauthorized, null);
        if (!response.IsSuccessStatusCode) return ((int)response.StatusCode is < 500 and not 429 ? CallOutcome.Rejected : CallOutcome.Failed, null);
        var answer = await response.Content.ReadFromJsonAsync<DisputeAnswer>(LeaseClaims.Json, ct);
        await CheckInAsync(ct);
        return (CallOutcome.Ok, answer);
    }

    /// <summary>
    /// Renews the expired token (PROTOCOL §2, <c>POST /v1/device/renew</c>) with the enrolled key, signed at the server's
    /// time when known. Ok: the new token is saved. Unauthorized: refused (the key is not the device's current one), the
    /// token is forgotten and the agent enrolls again. Failed: no answer, or rate-limited; retried later.
    /// </summary>
    public async Task<CallOutcome> RenewAsync(CancellationToken ct = default)
    {
        if (State.Enrollment is not { } enrollment) return CallOutcome.Unauthorized;
        RenewRequest request;
        using (var key = DeviceKeys.Open(State.Identity))
            request = TokenRenewal.Sign(enrollment.DeviceId, key, (_serverTime ?? clock.Wall).ToUnixTimeSeconds());
        RenewResponse? renewed = null;
        var result = await CallAsync<RenewResponse>("v1/device/renew", request, token: null, r => renewed = r, ct);
        if (renewed is not null) await DispatchAsync(new TokenRenewed(renewed.DeviceToken, clock.Now), ct);
        switch (result.Outcome)
        {
            case CallOutcome.Rejected or CallOutcome.NotRegistered:
                // A 4xx a correct request never gets: no token can come of it, so enroll again.
                await DispatchAsync(new TokenRejected(clock.Now), ct);
                return CallOutcome.Unauthorized;
            default:
                return result.Outcome; // Unauthorized has forgotten the token already
        }
    }

    // What a call answers to a token past its expiry (401 device-token-expired): the caller renews it. Compared by reference.
    private static readonly CallResult Expired = new(CallOutcome.Unauthorized);
    private const string ExpiredType = "https://lien.dev/problems/device-token-expired";

    // The server's clock as the last expired-token problem told it: a renewal signed at it is inside the server's window
    // whatever the phone's own clock says.
    private DateTimeOffset? _serverTime;

    // The last 429's Retry-After, until the check-in loop has waited it.
    private long _retryAfterTicks;

    // A signed answer (enrollment, check-in) is handed to the agent as received (body bytes and Lien-Signature); only an
    // accepted one schedules.
    private Task<CallResult> CallSignedAsync<T>(string path, object body, string? token, Func<byte[], string?, AgentEvent> answered,
        Func<T, TimeSpan> nextIn, CancellationToken ct) =>
        SendAsync(path, body, token, async response =>
        {
            byte[] bytes;
            try
            {
                bytes = await response.Content.ReadAsByteArrayAsync(ct);
            }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
                return new CallResult(CallOutcome.Failed);
            }
            var signature = response.Headers.TryGetValues(AnswerSignature.HeaderName, out var values) ? values.FirstOrDefault() : null;
            var effects = await DispatchAsync(answered(bytes, signature), ct);
            // A refused key set refuses only itself; any other refusal refuses the whole answer.
            if (effects.OfType<AnswerRefused>().Any(r => r.Reason != RefusalReason.KeySet) || State.Enrollment is null)
                return new CallResult(CallOutcome.Refused);
            return JsonSerializer.Deserialize<T>(bytes, LeaseClaims.Json) is { } answer
                ? new CallResult(CallOutcome.Ok, nextIn(answer))
                : new CallResult(CallOutcome.Refused);
        }, ct);

    // An answer that carries nothing the device trusts (a challenge, a renewed token) is read and handed to `answered`.
    private Task<CallResult> CallAsync<T>(string path, object body, string? token, Action<T> answered, CancellationToken ct) =>
        SendAsync(path, body, token, async response =>
        {
            T? answer;
            try
            {
                answer = await response.Content.ReadFromJsonAsync<T>(LeaseClaims.Json, ct);
            }
            catch (Exception e) when (e is JsonException or HttpRequestException or IOException)
            {
                return new CallResult(CallOutcome.Failed);
            }
            if (answer is null) return new CallResult(CallOutcome.Failed);
            answered(answer);
            return new CallResult(CallOutcome.Ok);
        }, ct);

    private async Task<CallResult> SendAsync(string path, object body, string? token, Func<HttpResponseMessage, Task<CallResult>> ok, CancellationToken ct)
    {
        HttpResponseMessage response;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body, body.GetType(), options: LeaseClaims.Json) };
            if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Device", token);
            response = await http.SendAsync(request, ct);
        }
        catch (Exception e) when (e is HttpRequestException or IOException || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return new CallResult(CallOutcome.Failed);
        }
        using (response)
        {
            switch (response.StatusCode)
            {
                case HttpStatusCode.OK:
                    return await ok(response);
                case HttpStatusCode.Unauthorized when token is not null && await ExpiredProblemAsync(response, ct):
                    return Expired;
                case HttpStatusCode.Unauthorized:
                    await DispatchAsync(new TokenRejected(clock.Now), ct);
                    return new CallResult(CallOutcome.Unauthorized);
                case HttpStatusCode.NotFound when token is null:
                    return new CallResult(CallOutcome.NotRegistered);
                case HttpStatusCode.TooManyRequests:
                    // Rate-limited: back off like a failure, and no sooner than the server asks.
                    Interlocked.Exchange(ref _retryAfterTicks, (response.Headers.RetryAfter?.Delta ?? TimeSpan.Zero).Ticks);
                    return new CallResult(CallOutcome.Failed);
                case var s when (int)s is >= 400 and < 500:
                    return new CallResult(CallOutcome.Rejected);
                default:
                    return new CallResult(CallOutcome.Failed);
            }
        }
    }

    // A 401 whose problem type says the token expired (rather than unknown); notes the server's time it carries.
    private async Task<bool> ExpiredProblemAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String
                || type.GetString() != ExpiredType)
                return false;
            if (doc.RootElement.TryGetProperty("serverTime", out var at) && at.ValueKind == JsonValueKind.String && at.TryGetDateTimeOffset(out var serverTime))
                _serverTime = serverTime;
            return true;
        }
        catch (Exception e) when (e is JsonException or HttpRequestException or IOException)
        {
            return false;
        }
    }

    private async Task CheckInLoopAsync(CancellationToken ct)
    {
        var backoff = Backoff.CheckIn(random);
        var rejectedInARow = 0;
        while (!ct.IsCancellationRequested)
        {
            // Taken before the call, so a Refresh pressed while it is in flight still brings the next check-in forward.
            var woken = _wake.Task;
            var result = State.Enrollment is null ? await EnrollAsync(ct) : await CheckInAsync(ct);
            // A refused answer backs off too: whoever forges answers must not set the pace of check-ins.
            if (result.Outcome is not (CallOutcome.Failed or CallOutcome.Unauthorized or CallOutcome.Refused)) backoff.Reset();
            rejectedInARow = result.Outcome == CallOutcome.Unauthorized ? rejectedInARow + 1 : 0;
            if (result.NextIn is { } next) _scheduled = next;
            var wait = result.Outcome switch
            {
                CallOutcome.Ok => _scheduled,
                // Enroll again at once; but two phones claiming one IMEI would take each other's token for ever: back off.
                CallOutcome.Unauthorized => rejectedInARow == 1 ? TimeSpan.Zero : backoff.Next(),
                CallOutcome.NotRegistered => DormantRetry,
                CallOutcome.Rejected => _scheduled,
                _ => Later(backoff.Next(), TimeSpan.FromTicks(Interlocked.Exchange(ref _retryAfterTicks, 0))),
            };
            await SleepAsync(wait, woken, () => CheckInScheduled?.Invoke(result.Outcome, wait), ct);
        }
    }

    private static TimeSpan Later(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private async Task StreamLoopAsync(CancellationToken ct)
    {
        var backoff = Backoff.Stream(random);
        while (!ct.IsCancellationRequested)
        {
            if (State.Enrollment is not null)
            {
                try
                {
                    if (await StreamOnceAsync(backoff.Reset, ct) == CallOutcome.Unauthorized) Wake();
                }
                catch (Exception e) when (e is HttpRequestException or IOException || (e is OperationCanceledException && !ct.IsCancellationRequested))
                {
                    // Dropped: reconnect after the backoff.
                }
            }
            await Task.Delay(backoff.Next(), time, ct);
        }
    }

    /// <summary>
    /// One connection of the instant stream: <c>GET /v1/device/stream?appliedSeq=N</c> (Server-Sent Events). Each
    /// <c>event: lease</c> carries <c>data: {"seq":N,"lease":"&lt;jws&gt;"}</c>; comment lines (<c>: ping</c>) keep it alive.
    /// Returns when the server closes it; throws when the network drops it or it stays silent past <see cref="StreamIdleTimeout"/>.
    /// </summary>
    internal async Task<CallOutcome> StreamOnceAsync(Action connected, CancellationToken ct)
    {
        if (State.Enrollment is not { } enrollment) return CallOutcome.Unauthorized;
        using var idle = new CancellationTokenSource(StreamIdleTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, idle.Token);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/device/stream?appliedSeq={State.AppliedSeq}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Device", enrollment.DeviceToken);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
        if (response.StatusCode == HttpStatusCode.Unauthorized) return CallOutcome.Unauthorized;
        if (!response.IsSuccessStatusCode) return (int)response.StatusCode < 500 ? CallOutcome.Rejected : CallOutcome.Failed;
        await using var body = await response.Content.ReadAsStreamAsync(linked.Token);
        using var reader = new StreamReader(body, Encoding.UTF8);
        var sse = new ServerSentEvents();
        var heard = false;
        while (await reader.ReadLineAsync(linked.Token) is { } line)
        {
            // Only a connection that carried something counts as a success; one closed at once keeps backing off.
            if (!heard) connected();
            heard = true;
            idle.CancelAfter(StreamIdleTimeout);
            if (sse.Feed(line) is not ("lease", var data)) continue;
            var lease = ParseLease(data);
            if (lease is not null) await DispatchAsync(new LeaseReceived(lease, clock.Now), ct);
        }
        return CallOutcome.Ok;
    }

    private static string? ParseLease(string data)
    {
        try
        {
            using var doc = JsonDocument.Parse(data);
            return doc.RootElement.TryGetProperty("lease", out var lease) && lease.ValueKind == JsonValueKind.String ? lease.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Tells the server a seq is applied: <c>POST /v1/device/ack</c> <c>{"seq":N}</c>. Best effort: check-in reports it too.</summary>
    private async Task AckAsync(long seq, CancellationToken ct)
    {
        if (State.Enrollment is not { } enrollment) return;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/device/ack") { Content = JsonContent.Create(new { seq }) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Device", enrollment.DeviceToken);
            using var response = await http.SendAsync(request, ct);
        }
        catch (Exception e) when (e is HttpRequestException or IOException || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
        }
    }

    // Ticks often enough to lock at the very instant unlockedUntil passes, and at least every TickInterval.
    private async Task ClockLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var wait = TickInterval;
            var s = State;
            if (s.Lease?.Claims is { Mode: LeaseMode.Unlocked, UnlockedUntil: { } until })
            {
                var left = until - s.TrustedNow(clock.Now);
                if (left > TimeSpan.Zero && left < wait) wait = left;
            }
            await Task.Delay(wait, time, ct);
            await DispatchAsync(new Tick(clock.Now), ct);
        }
    }

    private void Wake() => Interlocked.Exchange(ref _wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    // Waits for `wait`, or until Refresh (or a 401 elsewhere) asks for a check-in now.
    private async Task SleepAsync(TimeSpan wait, Task woken, Action started, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var delay = wait > TimeSpan.Zero ? Task.Delay(wait, time, stop.Token) : Task.CompletedTask;
        started();
        await Task.WhenAny(delay, woken);
        await stop.CancelAsync();
        ct.ThrowIfCancellationRequested();
    }
}

/// <summary>A Server-Sent Events parser, one line at a time (WHATWG HTML §9.2): <c>event:</c>, <c>data:</c>, comments, blank line dispatches.</summary>
internal sealed class ServerSentEvents
{
    private string _event = "";
    private readonly StringBuilder _data = new();

    /// <summary>Feeds one line; returns (event type, data) when the line completes an event.</summary>
    public (string Event, string Data)? Feed(string line)
    {
        if (line.Length == 0)
        {
            if (_data.Length == 0) { _event = ""; return null; }
            var done = (_event.Length == 0 ? "message" : _event, _data.ToString(0, _data.Length - 1));
            _event = "";
            _data.Clear();
            return done;
        }
        if (line[0] == ':') return null; // a comment: the server's keep-alive ping
        var colon = line.IndexOf(':');
        var field = colon < 0 ? line : line[..colon];
        var value = colon < 0 ? "" : line[(colon + 1)..];
        if (value.StartsWith(' ')) value = value[1..];
        if (field == "event") _event = value;
        else if (field == "data") _data.Append(value).Append('\n');
        return null;
    }
}

/// <summary>
/// The device's secure hardware, as enrollment needs it: the attestation chain (base64 DER certificates, leaf first) of
/// a key made for <c>challenge</c>. On Android: a Keystore key generated with
/// <c>KeyGenParameterSpec.Builder.setAttestationChallenge(challenge)</c> (and device-ID attestation, so the IMEIs are in
/// it), its chain read with <c>KeyStore.getCertificateChain</c>. Null when the device cannot attest.
/// </summary>
public interface IKeyAttestation
{
    /// <summary>The chain attesting the key <paramref name="publicKey"/> (SPKI DER), made with <paramref name="challenge"/>, on the phone with <paramref name="imeis"/>.</summary>
    IReadOnlyList<string>? Attest(byte[] publicKey, byte[] challenge, IReadOnlyList<string> imeis);
}

/// <summary>
/// What the phone was given at setup: the one-time enrollment token and the lender key thumbprint from the provisioning QR
/// code (Android's admin extras <c>dev.lien.ENROLLMENT_TOKEN</c>, <c>dev.lien.LENDER_KEY_THUMBPRINT</c>), and its key attestation.
/// </summary>
public sealed record AgentProvisioning(string? EnrollmentToken = null, string? LenderKeyThumbprint = null, IKeyAttestation? Attestation = null);
