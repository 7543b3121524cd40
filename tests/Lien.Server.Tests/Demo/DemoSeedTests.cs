using Lien.Server.Demo;
using Microsoft.Extensions.DependencyInjection;

namespace Lien.Server.Tests.Demo;

/// <summary>The demo's phones tell the story they are seeded for, with the lock warned of before the lock.</summary>
public sealed class DemoSeedTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    [Fact]
    public async Task Seed_OverduePastGrace_LockedAfterAWarning_WithinGraceUnlocked_PaidOffReleased()
    {
        await using var scope = server.Services.CreateAsyncScope();
        var token = await DemoSeed.RunAsync(scope.ServiceProvider, TestContext.Current.CancellationToken);
        using var admin = server.Client(token);
        var devices = (await admin.ReadAsync("/v1/devices?limit=50")).GetProperty("items").EnumerateArray().ToList();
        var infinix = devices.Single(d => d.Str("model") == "Infinix Hot 40");
        var leases = (await admin.ReadAsync($"/v1/devices/{infinix.Id()}/leases")).EnumerateArray().Reverse().ToList();
        Assert.Equal("Locked", leases[^1].Str("mode"));
        var warning = leases.Single(l => l.GetProperty("notice").ValueKind != System.Text.Json.JsonValueKind.Null && l.GetProperty("notice").Str("kind") == "lock-warning");
        Assert.True(warning.GetProperty("issuedAt").GetDateTimeOffset() <= leases[^1].GetProperty("issuedAt").GetDateTimeOffset().AddHours(-24));
        var samsung = devices.Single(d => d.Str("model") == "Samsung Galaxy A15");
        Assert.Equal("Unlocked", (await admin.ReadAsync($"/v1/devices/{samsung.Id()}/lease")).Str("mode"));
        // Paid off in the review two days ago; the demo lender's 24 h settlement hold has ended, so the phone is released.
        var itel = devices.Single(d => d.Str("model") == "itel A70");
        Assert.Equal("Released", (await admin.ReadAsync($"/v1/devices/{itel.Id()}/lease")).Str("mode"));
    }
}
