using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Lien.Protocol;
using Lien.Server.Audit;
using Lien.Server.Lenders;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Lien.Agent.Tests;

/// <summary>
/// The real server on Kestrel (loopback, a free port) over a fresh SQLite file, its time a FakeTimeProvider.
/// The pattern of tests/Lien.Server.Tests/LienServer.cs, SQLite only: the agent does not care which store is behind it.
/// </summary>
public sealed class LienServer : WebApplicationFactory<Program>, IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "lien-agent-tests-" + Guid.NewGuid().ToString("N"));

    public FakeTimeProvider Time { get; } = new(TestLeases.T0);

    public ValueTask InitializeAsync()
    {
        UseKestrel(0);
        StartServer();
        return ValueTask.CompletedTask;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Lien:DataDir", _dataDir);
        builder.UseSetting("Lien:MasterKey", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        builder.UseSetting("Database:Provider", "sqlite");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(Time));
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (Directory.Exists(_dataDir)) Directory.Delete(_dataDir, recursive: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>A new lender and a client holding its admin key.</summary>
    public async Task<(Guid LenderId, HttpClient Admin, string Key)> NewLenderAsync()
    {
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LienDb>();
        var settings = new LenderSettings("Mkopo Phones", "https://example.com/logo.png", "0800 723 000", "*483*7#", null, "Africa/Nairobi", "KES", "standard", 72);
        var (lender, token) = await db.InTransactionAsync(() => scope.ServiceProvider.GetRequiredService<LenderSetup>().CreateAsync(settings, "test"));
        var admin = CreateClient();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return (lender.Id, admin, token);
    }

    public DateOnly Today => Policy.LocalDate(Time.GetUtcNow(), TimeZoneInfo.FindSystemTimeZoneById("Africa/Nairobi"));
}

/// <summary>The lender API calls the agent tests need, as a lender's engineer would make them.</summary>
internal static class LenderApi
{
    public static async Task<(Guid Id, string Imei)> RegisterAsync(this HttpClient admin)
    {
        var imei = TestLeases.NewImei();
        var body = await Ok(await admin.PostAsJsonAsync("/v1/devices", new { imei, make = "Tecno", model = "Spark 20" }), HttpStatusCode.Created);
        return (body.GetProperty("id").GetGuid(), imei);
    }

    /// <summary>A plan of monthly installments of KES 100 from <paramref name="firstDue"/>; returns its id.</summary>
    public static async Task<Guid> PlanAsync(this HttpClient admin, Guid deviceId, DateOnly firstDue, int count = 3)
    {
        var body = await Ok(await admin.PostAsJsonAsync("/v1/plans", new
        {
            deviceId, borrowerReference = "cust-1", price = count * 100_00 + 50_00, downPayment = 50_00,
            generate = new { count, frequency = "Monthly", firstDueDate = firstDue.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) },
        }), HttpStatusCode.Created);
        return body.GetProperty("id").GetGuid();
    }

    public static async Task PayAsync(this HttpClient admin, Guid planId, long amount) =>
        await Ok(await admin.PostAsJsonAsync("/v1/payments", new { planId, amount, currency = "KES", provider = "mpesa", providerTransactionId = Guid.NewGuid().ToString("N") }),
            HttpStatusCode.Created);

    private static async Task<JsonElement> Ok(HttpResponseMessage r, HttpStatusCode expected)
    {
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == expected, $"expected {(int)expected}, got {(int)r.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
