using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Lien.Server.Tests.Payments;

/// <summary>
/// A lender's month-end: many distinct payments at once. Every one is answered 201, the ledger holds exactly what was
/// answered, the audit chain verifies, and nothing is logged as an error (a retried conflict is not one). On the system
/// clock, on SQLite and PostgreSQL.
/// </summary>
public abstract class MonthEndTests(LienServer server)
{
    protected LienServer Server { get; } = server;

    [Theory]
    [InlineData(200, 200, 1)]  // 200 payments, all at once, all to one plan (the hardest case: one plan row, one lender)
    [InlineData(200, 25, 20)]  // spread over 20 plans of the same lender
    public async Task Payments_ManyDistinctAtOnce_EveryOneCreatedLedgerMatchesNoErrorLogged(int count, int concurrency, int plans)
    {
        var a = await Server.NewLenderAsync();
        var planIds = new List<Guid>();
        for (var i = 0; i < plans; i++)
        {
            var device = await a.Admin.RegisterAsync();
            planIds.Add((await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(20), count: 1, each: 10_000_000_00, downPayment: 0)).Id());
        }
        var errorsBefore = Server.Logs.Errors.Count();
        var clients = Enumerable.Range(0, concurrency).Select(_ => Server.Client(a.Token)).ToList();
        using var gate = new SemaphoreSlim(concurrency);
        var tx = "MONTHEND-" + Guid.NewGuid().ToString("N")[..8];
        var statuses = await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                var r = await clients[i % concurrency].PayAsync(planIds[i % plans], 1_00 + i, $"{tx}-{i}");
                return r.StatusCode;
            }
            finally
            {
                gate.Release();
            }
        }));

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Created, s));
        var recorded = await Server.WithDbAsync(db => db.Payments.Where(p => p.LenderId == a.LenderId).Select(p => p.ProviderTransactionId).ToListAsync());
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"{tx}-{i}").Order(), recorded.Order());
        var paid = await Server.WithDbAsync(db => db.Plans.Where(p => p.LenderId == a.LenderId).SumAsync(p => p.PaidTotal));
        Assert.Equal(Enumerable.Range(0, count).Sum(i => 1_00L + i), paid);
        Assert.True((await a.Admin.ReadAsync("/v1/audit/verify")).GetProperty("intact").GetBoolean());
        var errors = Server.Logs.Errors.Skip(errorsBefore).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors.Take(5).Select(e => $"{e.Category}: {e.Message}")));
        Assert.DoesNotContain(Server.Logs.Entries, e => e.Level >= LogLevel.Warning && e.Category.StartsWith("Microsoft.EntityFrameworkCore", StringComparison.Ordinal));
    }
}

public sealed class SqliteMonthEndTests(SqliteRealClockServer server) : MonthEndTests(server), IClassFixture<SqliteRealClockServer>;

public sealed class PostgresMonthEndTests(PostgresRealClockServer server) : MonthEndTests(server), IClassFixture<PostgresRealClockServer>;
