using System.Security.Cryptography;
using System.Text.Json;
using Lien.Protocol;
using Lien.Server.AgentApi;
using Lien.Server.Api;
using Microsoft.AspNetCore.Http;

namespace Lien.Server.Tests.DeviceApi;

public class CheckInAnswerTests
{
    [Theory]
    [InlineData(1, "eyJhbGciOiJFUzI1NiJ9.eyJzZXEiOjF9.c2ln", 0, null, null)]
    [InlineData(42, "a+b<c>&'\"\\é", 5, "bm9uY2Utbm9uY2Utbm9uY2U", null)]
    [InlineData(7, "eyJhbGciOiJFUzI1NiJ9.eyJzZXEiOjF9.c2ln", 3, null, "0195f0a0a0a0a0a0a0a0a0a0a0a0a0a0.2.1775000000.AAAAAAAAAAAAAAAAAAAAAA")]
    public async Task ExecuteAsync_AnyAnswer_WritesWhatTheSerializerWritesForCheckInResponse(long seq, string lease, int offsetHours, string? nonce, string? deviceToken)
    {
        var now = new DateTimeOffset(2026, 11, 27, 12, 39, 56, TimeSpan.FromHours(offsetHours)).AddTicks(5_815_341);
        var next = now + TimeSpan.FromHours(6);
        using var lenderKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var keySet = KeySetStatement.Sign(new KeySetClaims(KeySetClaims.Type, Guid.NewGuid(), 3, now.ToUnixTimeSeconds(), [TrustKey.From("lk1", lenderKey)], ["lk0"]),
            [("lk1", lenderKey)]);
        var keySetJson = JsonSerializer.Serialize(keySet, Json.Options);
        var expected = JsonSerializer.Serialize(new CheckInResponse(seq, lease, keySet, next, now, nonce) { DeviceToken = deviceToken }, Json.Options);
        var http = new DefaultHttpContext();
        using var body = new MemoryStream();
        http.Response.Body = body;
        var answerKeys = new AnswerKeys(RandomNumberGenerator.GetBytes(32));
        var (deviceId, epoch) = (Guid.NewGuid(), 7);

        await new CheckInAnswer(seq, lease, CheckInAnswer.KeySet(keySetJson), next, now, nonce, answerKeys, deviceId, epoch, deviceToken).ExecuteAsync(http);

        Assert.Equal(expected, System.Text.Encoding.UTF8.GetString(body.ToArray()));
        Assert.Equal(200, http.Response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", http.Response.ContentType);
        Assert.Equal(body.Length, http.Response.ContentLength);
        // Signed under this enrollment's answer key, over exactly the bytes sent; another epoch's key does not verify it.
        var key = new byte[32];
        answerKeys.Derive(deviceId, epoch, key);
        var signature = http.Response.Headers[AnswerSignature.HeaderName].ToString();
        Assert.Null(AnswerSignature.VerifyHs256(signature, body.ToArray(), key));
        answerKeys.Derive(deviceId, epoch + 1, key);
        Assert.Equal("bad signature", AnswerSignature.VerifyHs256(signature, body.ToArray(), key));
    }
}
