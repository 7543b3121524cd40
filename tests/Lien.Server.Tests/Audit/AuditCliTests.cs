using System.Net;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Tests.Audit;

/// <summary>
/// <c>lien audit checkpoint --out</c> and <c>lien audit verify --checkpoint</c>: a checkpoint kept outside Lien catches what
/// the database alone cannot — the newest events deleted together with the checkpoints that covered them.
/// </summary>
public sealed class AuditCliTests(SqliteRealClockServer server) : IClassFixture<SqliteRealClockServer>, IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), "lien-checkpoint-" + Guid.NewGuid().ToString("N") + ".jws");
    private string Url => server.Client().BaseAddress!.ToString();

    [Fact]
    public async Task VerifyWithSavedCheckpoint_EventsAndCheckpointRowsDeleted_BrokenNonZeroExit()
    {
        var a = await server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), server.Today.AddDays(3));
        await (await a.Admin.PayAsync(plan.Id(), 5_00)).Json(HttpStatusCode.Created);

        var (code, output, error) = await LienCommand.RunAsync("audit", "checkpoint", "--out", _file, "--server", Url, "--key", a.Token);
        Assert.True(code == 0, error);
        Assert.Contains("saved to", output);
        (code, output, error) = await LienCommand.RunAsync("audit", "verify", "--checkpoint", _file, "--server", Url, "--key", a.Token);
        Assert.True(code == 0, error);
        Assert.Contains("the saved checkpoint at event", output);

        // Someone who can write the database removes the payment's events and every checkpoint that covered them.
        var head = await server.WithDbAsync(db => db.AuditEvents.Where(e => e.LenderId == a.LenderId).MaxAsync(e => e.Seq));
        await server.WithDbAsync(async db =>
        {
            await db.AuditCheckpoints.Where(c => c.LenderId == a.LenderId).ExecuteDeleteAsync();
            return await db.AuditEvents.Where(e => e.LenderId == a.LenderId && e.Seq > head - 2).ExecuteDeleteAsync();
        });
        (code, output, _) = await LienCommand.RunAsync("audit", "verify", "--server", Url, "--key", a.Token);
        Assert.Equal(0, code); // the database alone cannot tell (docs/ARCHITECTURE.md says so)
        (code, _, error) = await LienCommand.RunAsync("audit", "verify", "--checkpoint", _file, "--server", Url, "--key", a.Token);
        Assert.NotEqual(0, code);
        Assert.Contains($"no longer holds event {head}", error);
    }

    [Fact]
    public async Task VerifyWithSavedCheckpoint_AnotherLendersCheckpoint_Refused()
    {
        var a = await server.NewLenderAsync();
        var b = await server.NewLenderAsync();
        await a.Admin.RegisterAsync();
        await b.Admin.RegisterAsync();
        var (code, _, error) = await LienCommand.RunAsync("audit", "checkpoint", "--out", _file, "--server", Url, "--key", b.Token);
        Assert.True(code == 0, error);
        (code, _, error) = await LienCommand.RunAsync("audit", "verify", "--checkpoint", _file, "--server", Url, "--key", a.Token);
        Assert.NotEqual(0, code);
        Assert.Contains("not signed by this lender's keys", error);
    }

    public void Dispose()
    {
        if (File.Exists(_file)) File.Delete(_file);
    }
}
