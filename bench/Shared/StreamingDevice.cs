// A simulated phone of a lender whose enrollment policy is open (compile-included by bench/Lien.Bench.Latency and
// bench/Lien.Bench.Payments): it enrolls with a fresh P-256 key (PROTOCOL §1, no attestation: what that costs is
// bench/Lien.Bench.Enrollment's subject), holds its lease stream open (§4), verifies every lease pushed on it with the
// lender's key set and acknowledges it, as the agent does.
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Lien.Protocol;

namespace Lien.Bench;

/// <summary>One simulated device: its enrollment, its stream, its lease verification and its acknowledgements.</summary>
internal sealed class StreamingDevice
{
    private readonly string _token;
    private readonly Dictionary<string, ECDsa> _keys;
    private StreamReader? _reader;
    private long _seq;

    private StreamingDevice(Guid id, string token, long seq, Dictionary<string, ECDsa> keys)
    {
        Id = id;
        _token = token;
        _seq = seq;
        _keys = keys;
        EnrolledSeq = seq;
    }

    /// <summary>What a device does with a fresh lease it verified and acknowledged: its seq, and when its event was read (a <see cref="Stopwatch"/> timestamp).</summary>
    public delegate void LeaseReceived(StreamingDevice device, long seq, long readAt);

    public Guid Id { get; }

    /// <summary>The seq of the lease the enrollment answered with.</summary>
    public long EnrolledSeq { get; }

    /// <summary>The seq of the newest lease the device holds: the enrollment's, then each verified one its stream brought.</summary>
    public long Seq => Interlocked.Read(ref _seq);

    /// <summary>Enrolls the device of <paramref name="imei"/> as a phone does under the open policy: a challenge, a fresh key, the signed request; trusts the answer's key set.</summary>
    public static async Task<StreamingDevice> EnrollAsync(HttpClient client, string imei, CancellationToken ct)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var asked = await client.PostAsJsonAsync("/v1/device/enroll/challenge", new { }, ct);
        if (!asked.IsSuccessStatusCode) throw new InvalidOperationException($"challenge: {(int)asked.StatusCode} {await asked.Content.ReadAsStringAsync(ct)}");
        var challenge = (await asked.Content.ReadFromJsonAsync<EnrollmentChallenge>(LeaseClaims.Json, ct))!;
        using var r = await client.PostAsJsonAsync("/v1/device/enroll",
            EnrollmentProof.Sign([imei], key, challenge.ServerTime.ToUnixTimeSeconds(), EnrollmentProof.NewNonce(), challenge.Challenge), ct);
        if (!r.IsSuccessStatusCode) throw new InvalidOperationException($"enroll {imei}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync(ct)}");
        var e = (await r.Content.ReadFromJsonAsync<EnrollResponse>(LeaseClaims.Json, ct))!;
        var keys = e.KeySet.Verify(e.LenderId, out var problem)?.Keys.Select(k => (k.Kid, k.ToECDsa())).ToDictionary()
                   ?? throw new InvalidOperationException($"enroll {imei}: the key set does not verify: {problem}");
        return new StreamingDevice(e.DeviceId, e.DeviceToken, e.Seq, keys);
    }

    /// <summary>
    /// Opens every device's stream, <paramref name="chunk"/> at a time, then starts reading them all; answers the
    /// readers, which end when <paramref name="ct"/> is cancelled (or fault, if an acknowledgement fails).
    /// </summary>
    public static async Task<Task[]> StreamAllAsync(IReadOnlyList<StreamingDevice> devices, HttpClient streams, HttpClient acks,
        LeaseReceived received, CancellationToken ct, int chunk = 500)
    {
        var readers = new List<Task>();
        foreach (var some in devices.Chunk(chunk))
        {
            await Task.WhenAll(some.Select(d => d.OpenAsync(streams, ct)));
            readers.AddRange(some.Select(d => d.ReadAsync(acks, received, ct)));
        }
        return [.. readers];
    }

    /// <summary>Opens the stream with the seq the device holds, and waits for its <c>: connected</c> line.</summary>
    public async Task OpenAsync(HttpClient client, CancellationToken ct)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/device/stream?appliedSeq={Seq}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Device", _token);
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        response.EnsureSuccessStatusCode();
        _reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct), Encoding.UTF8, false, bufferSize: 512);
        if (await _reader.ReadLineAsync(ct) != ": connected") throw new InvalidOperationException("stream did not connect");
    }

    /// <summary>Reads the stream until it ends or <paramref name="ct"/> is cancelled: each lease verified is acknowledged, and a fresh one (a higher seq) handed to <paramref name="received"/>.</summary>
    public async Task ReadAsync(HttpClient acks, LeaseReceived received, CancellationToken ct)
    {
        try
        {
            while (await _reader!.ReadLineAsync(ct) is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
                var readAt = Stopwatch.GetTimestamp();
                var data = JsonDocument.Parse(line[6..]).RootElement;
                var seq = data.GetProperty("seq").GetInt64();
                var jws = data.GetProperty("lease").GetString()!;
                var verified = Jws.Verify(jws, kid => _keys.GetValueOrDefault(kid), LeaseClaims.MediaType);
                if (!verified.Valid || seq < Seq) continue;
                // The lease it holds, again: the server missed an ack. Acknowledge it again, as PROTOCOL §4 asks.
                var fresh = seq > Seq;
                Interlocked.Exchange(ref _seq, seq);
                var request = new HttpRequestMessage(HttpMethod.Post, "/v1/device/ack") { Content = JsonContent.Create(new { seq }) };
                request.Headers.Authorization = new AuthenticationHeaderValue("Device", _token);
                (await acks.SendAsync(request, ct)).EnsureSuccessStatusCode();
                if (fresh) received(this, seq, readAt);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }
}
