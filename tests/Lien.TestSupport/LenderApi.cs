using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lien.Protocol;

namespace Lien.TestSupport;

/// <summary>Small helpers over the lender's HTTP API, so tests read as what a lender's engineer would do.</summary>
public static class LenderApi
{
    private static long _next = Random.Shared.NextInt64(10_000_000_000, 90_000_000_000);

    /// <summary>A fresh valid IMEI.</summary>
    public static string NewImei() => Imei.WithCheckDigit("35" + Interlocked.Increment(ref _next).ToString("000000000000", CultureInfo.InvariantCulture));

    public static async Task<JsonElement> Json(this HttpResponseMessage r, HttpStatusCode expected)
    {
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == expected, $"expected {(int)expected}, got {(int)r.StatusCode}: {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Asserts an RFC 9457 problem with the status; returns it.</summary>
    public static async Task<JsonElement> Problem(this HttpResponseMessage r, HttpStatusCode expected)
    {
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        var p = await r.Json(expected);
        Assert.Equal((int)expected, p.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(p.GetProperty("title").GetString()));
        return p;
    }

    public static async Task<JsonElement> RegisterAsync(this HttpClient c, string? imei = null, string? imei2 = null) =>
        await (await c.PostAsJsonAsync("/v1/devices", new { imei = imei ?? NewImei(), imei2, serial = "SN1", make = "Tecno", model = "Spark 20" })).Json(HttpStatusCode.Created);

    /// <summary>
    /// A plan of <paramref name="count"/> monthly installments of <paramref name="each"/> from <paramref name="firstDue"/>;
    /// a first due date already past needs <paramref name="backdated"/>, as the API asks.
    /// </summary>
    public static async Task<JsonElement> PlanAsync(this HttpClient c, Guid deviceId, DateOnly firstDue, int count = 3, long each = 100_00, long downPayment = 50_00,
        bool backdated = false) =>
        await (await c.PostAsJsonAsync("/v1/plans", new
        {
            deviceId,
            borrowerReference = "cust-1",
            price = count * each + downPayment,
            downPayment,
            generate = new { count, frequency = "Monthly", firstDueDate = firstDue },
            backdated,
        })).Json(HttpStatusCode.Created);

    public static Task<HttpResponseMessage> PayAsync(this HttpClient c, Guid planId, long amount, string? tx = null, string currency = "KES") =>
        c.PostAsJsonAsync("/v1/payments", new { planId, amount, currency, provider = "mpesa", providerTransactionId = tx ?? Guid.NewGuid().ToString("N") });

    public static async Task<JsonElement> ReadAsync(this HttpClient c, string url) => await (await c.GetAsync(url)).Json(HttpStatusCode.OK);

    public static Guid Id(this JsonElement e) => e.GetProperty("id").GetGuid();
    public static string Str(this JsonElement e, string name) => e.GetProperty(name).GetString()!;
    public static long Long(this JsonElement e, string name) => e.GetProperty(name).GetInt64();
}
