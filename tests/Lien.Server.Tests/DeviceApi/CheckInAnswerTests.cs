using System.Text.Json;
using Lien.Protocol;
using Lien.Server.AgentApi;
using Lien.Server.Api;
using Microsoft.AspNetCore.Http;

namespace Lien.Server.Tests.DeviceApi;

public class CheckInAnswerTests
{
    private const string TrustKeysJson = """[{"kid":"lk0123456789abcdef","kty":"EC","crv":"P-256","x":"cWEU36rlRIvTRf0C7Cm2EilsNyB2b5D9Xgen4OS88Zs","y":"5MezkLjByuE3a9s1531Posuh5MM5b2eFdD4qEMIOU48"}]""";

    [Theory]
    [InlineData(1, "eyJhbGciOiJFUzI1NiJ9.eyJzZXEiOjF9.c2ln", 0, null)]
    [InlineData(42, "a+b<c>&'\"\\é", 5, null)]
    [InlineData(7, "eyJhbGciOiJFUzI1NiJ9.eyJzZXEiOjF9.c2ln", 3, "0195f0a0a0a0a0a0a0a0a0a0a0a0a0a0.2.1775000000.AAAAAAAAAAAAAAAAAAAAAA")]
    public async Task ExecuteAsync_AnyAnswer_WritesWhatTheSerializerWritesForCheckInResponse(long seq, string lease, int offsetHours, string? deviceToken)
    {
        var now = new DateTimeOffset(2026, 11, 27, 12, 39, 56, TimeSpan.FromHours(offsetHours)).AddTicks(5_815_341);
        var next = now + TimeSpan.FromHours(6);
        var expected = JsonSerializer.Serialize(
            new CheckInResponse(seq, lease, JsonSerializer.Deserialize<List<TrustKey>>(TrustKeysJson, Json.Options)!, next, now) { DeviceToken = deviceToken },
            Json.Options);
        var http = new DefaultHttpContext();
        using var body = new MemoryStream();
        http.Response.Body = body;

        await new CheckInAnswer(seq, lease, CheckInAnswer.TrustKeys(TrustKeysJson), next, now, deviceToken).ExecuteAsync(http);

        Assert.Equal(expected, System.Text.Encoding.UTF8.GetString(body.ToArray()));
        Assert.Equal(200, http.Response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", http.Response.ContentType);
        Assert.Equal(body.Length, http.Response.ContentLength);
    }
}
