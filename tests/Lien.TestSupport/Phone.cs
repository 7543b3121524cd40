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
    /// <summary>
    /// An enrollment for <paramref name="imeis"/>, signed with <paramref name="key"/> as the device's key. Written out from
    /// PROTOCOL §2 rather than through <c>EnrollmentProof.Sign</c>, so the server is also checked against a second reading.
    /// </summary>
    public static EnrollRequest Enrollment(ECDsa key, params string[] imeis)
    {
        var publicKey = Convert.ToBase64String(key.ExportSubjectPublicKeyInfo());
        const long signedAt = 1_770_000_000;
        var signature = key.SignData(Encoding.UTF8.GetBytes(EnrollRequest.SigningInput(imeis, publicKey, signedAt)), HashAlgorithmName.SHA256,
            DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return new EnrollRequest(imeis, publicKey, signedAt, Base64Url.EncodeToString(signature));
    }

    /// <summary>Enrolls <paramref name="imeis"/> with <paramref name="key"/>; asserts 200.</summary>
    public static async Task<EnrollResponse> EnrollAsync(this HttpClient client, ECDsa key, params string[] imeis)
    {
        var r = await client.PostAsJsonAsync("/v1/device/enroll", Enrollment(key, imeis));
        return (await r.Json(HttpStatusCode.OK)).Deserialize<EnrollResponse>(LeaseClaims.Json)!;
    }

    /// <summary>Enrolls <paramref name="imei"/> with a key of its own; asserts 200.</summary>
    public static async Task<EnrollResponse> EnrollAsync(this HttpClient client, string imei)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return await client.EnrollAsync(key, imei);
    }

    public static Task<HttpResponseMessage> CheckInAsync(this HttpClient client, string token, long appliedSeq, string? pushToken = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/device/checkin") { Content = JsonContent.Create(new CheckInRequest(appliedSeq, pushToken)) };
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
