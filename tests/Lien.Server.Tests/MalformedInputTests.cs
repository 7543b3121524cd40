using System.Net;
using System.Text;

namespace Lien.Server.Tests;

/// <summary>Malformed requests to any endpoint: a 4xx problem, never a 500. Through real HTTP, on SQLite and on PostgreSQL (see the derived classes).</summary>
public abstract class MalformedInputTests(LienServer server)
{
    protected LienServer Server { get; } = server;

    [Theory]
    [InlineData("POST", "/v1/devices", "{")]
    [InlineData("POST", "/v1/devices", "[]")]
    [InlineData("POST", "/v1/devices", """{"imei": 12}""")]
    [InlineData("POST", "/v1/devices", "")]
    [InlineData("POST", "/v1/plans", """{"deviceId":"not-a-guid"}""")]
    [InlineData("POST", "/v1/plans", """{"deviceId":null,"price":"ten"}""")]
    [InlineData("POST", "/v1/plans", """{"price":100,"generate":{"count":2,"frequency":"Fortnightly","firstDueDate":"2026-01-01"}}""")]
    [InlineData("POST", "/v1/plans", """{"price":100,"installments":[{"dueDate":"2026-13-45","amount":1}]}""")]
    [InlineData("POST", "/v1/plans", """{"price":9223372036854775807,"downPayment":-9223372036854775808,"generate":{"count":1,"frequency":"Daily","firstDueDate":"2026-01-01"}}""")]
    [InlineData("POST", "/v1/payments", """{"amount":1e400}""")]
    [InlineData("POST", "/v1/payments", """{"planId":"00000000-0000-0000-0000-000000000000","amount":9223372036854775807,"currency":"KES","provider":"p","providerTransactionId":"t"}""")]
    [InlineData("PATCH", "/v1/lender", """{"timeZone":"Mars/Olympus"}""")]
    [InlineData("PATCH", "/v1/lender", """{"offlineAllowanceHours":0}""")]
    [InlineData("POST", "/v1/api-keys", """{"name":"x","role":"Root"}""")]
    [InlineData("POST", "/v1/device/enroll", """{"imeis":["1"],"publicKey":"@@","signedAt":0,"signature":"x"}""")]
    [InlineData("POST", "/v1/device/enroll", """{"imeis":null}""")]
    [InlineData("POST", "/v1/device/checkin", """{"appliedSeq":"x"}""")]
    [InlineData("GET", "/v1/devices/not-a-guid", null)]
    [InlineData("GET", "/v1/plans?lifecycle=Sideways", null)]
    [InlineData("GET", "/v1/audit?after=x", null)]
    public async Task Malformed_Input_IsA4xxProblemNeverA500(string method, string url, string? body)
    {
        var a = await Server.NewLenderAsync();
        var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        var r = await a.Admin.SendAsync(request);
        Assert.True((int)r.StatusCode is >= 400 and < 500, $"{(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}");
        if (r.StatusCode != HttpStatusCode.NotFound || url.Contains("/v1/devices/not-a-guid", StringComparison.Ordinal) is false)
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
    }
}

public sealed class SqliteMalformedInputTests(SqliteServer server) : MalformedInputTests(server), IClassFixture<SqliteServer>;

public sealed class PostgresMalformedInputTests(PostgresServer server) : MalformedInputTests(server), IClassFixture<PostgresServer>;
