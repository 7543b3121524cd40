using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Lien.Protocol;

namespace Lien.TestSupport;

/// <summary>A phone's calls to the device API (enroll, check in, ack), as bare as an agent would make them.</summary>
public static class Phone
{
    /// <summary>A challenge from <c>POST /v1/device/enroll/challenge</c>; asserts 200.</summary>
    public static async Task<EnrollmentChallenge> ChallengeAsync(this HttpClient client)
    {
        var r = await client.PostAsJsonAsync("/v1/device/enroll/challenge", new { });
        return (await r.Json(HttpStatusCode.OK)).Deserialize<EnrollmentChallenge>(LeaseClaims.Json)!;
    }

    /// <summary>
    /// An enrollment for <paramref name="imeis"/>, signed with <paramref name="key"/> as the device's key over a fresh
    /// challenge from the server. Written out from PROTOCOL §1 rather than through <c>EnrollmentProof.Sign</c>, so the
    /// server is also checked against a second reading. The chain is <paramref name="attestation"/> when given, else the
    /// test attestation authority's for this key, challenge and IMEIs (<see cref="TestAttestation"/>); none with <paramref name="attest"/> false.
    /// <paramref name="nonce"/>: the device's nonce (signed), fresh when not given.
    /// </summary>
    public static async Task<EnrollRequest> EnrollmentAsync(this HttpClient client, ECDsa key, string[] imeis, string? enrollmentToken = null,
        bool attest = true, IReadOnlyList<string>? attestation = null, string? nonce = null)
    {
        var challenge = await client.ChallengeAsync();
        var publicKey = Convert.ToBase64String(key.ExportSubjectPublicKeyInfo());
        var signedAt = challenge.ServerTime.ToUnixTimeSeconds();
        nonce ??= Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));
        var input = $"lien-enroll-v2\n{string.Join(',', imeis)}\n{publicKey}\n{signedAt}\n{nonce}\n{challenge.Challenge}\n{enrollmentToken}";
        var signature = key.SignData(Encoding.UTF8.GetBytes(input), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        attestation ??= attest ? TestAttestation.Chain(key, Base64Url.DecodeFromChars(challenge.Challenge), imeis) : null;
        return new EnrollRequest(imeis, publicKey, signedAt, nonce, challenge.Challenge, Base64Url.EncodeToString(signature), attestation, enrollmentToken);
    }

    /// <summary>Enrolls <paramref name="imeis"/> with <paramref name="key"/> (attested); asserts 200.</summary>
    public static async Task<EnrollResponse> EnrollAsync(this HttpClient client, ECDsa key, params string[] imeis)
    {
        var r = await client.PostAsJsonAsync("/v1/device/enroll", await client.EnrollmentAsync(key, imeis));
        return (await r.Json(HttpStatusCode.OK)).Deserialize<EnrollResponse>(LeaseClaims.Json)!;
    }

    /// <summary>Enrolls <paramref name="imei"/> with a key of its own; asserts 200.</summary>
    public static async Task<EnrollResponse> EnrollAsync(this HttpClient client, string imei)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return await client.EnrollAsync(key, imei);
    }

    public static Task<HttpResponseMessage> CheckInAsync(this HttpClient client, string token, long appliedSeq, string? pushToken = null, int? wrongCodes = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/device/checkin") { Content = JsonContent.Create(new CheckInRequest(appliedSeq, pushToken, wrongCodes)) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Device", token);
        return client.SendAsync(request);
    }

    /// <summary>Acknowledges the lease <paramref name="seq"/>; asserts 204.</summary>
    public static async Task AckAsync(this HttpClient client, string token, long seq)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/device/ack") { Content = JsonContent.Create(new { seq }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Device", token);
        Assert.Equal(HttpStatusCode.NoContent, (await client.SendAsync(request)).StatusCode);
    }

    /// <summary>The keys of a key-set statement that is well formed (every listed key signed it); asserts it is.</summary>
    public static IReadOnlyList<TrustKey> VerifiedKeys(KeySetStatement keySet)
    {
        var lenderId = JsonSerializer.Deserialize<KeySetClaims>(Base64Url.DecodeFromChars(keySet.Payload), LeaseClaims.Json)!.LenderId;
        var claims = keySet.Verify(lenderId, out var problem);
        Assert.True(claims is not null, problem);
        return claims.Keys;
    }

    /// <summary>Verifies a lease against the lender's key-set statement as an agent would, and returns its claims.</summary>
    public static LeaseClaims VerifiedClaims(string jws, KeySetStatement keySet) => VerifiedClaims(jws, VerifiedKeys(keySet));

    /// <summary>Verifies a lease against the lender's trust keys as an agent would, and returns its claims.</summary>
    public static LeaseClaims VerifiedClaims(string jws, IReadOnlyList<TrustKey> keys)
    {
        var r = Jws.Verify(jws, kid => keys.FirstOrDefault(k => k.Kid == kid)?.ToECDsa(), LeaseClaims.MediaType);
        Assert.True(r.Valid, r.Reason);
        return JsonSerializer.Deserialize<LeaseClaims>(r.Payload, LeaseClaims.Json)!;
    }
}
