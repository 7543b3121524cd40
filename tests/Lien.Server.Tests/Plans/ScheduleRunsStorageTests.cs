using System.Net;
using System.Net.Http.Json;
using Lien.Server.Plans;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Migrations.Operations;

namespace Lien.Server.Tests.Plans;

/// <summary>
/// A plan's schedule travels on its row: a new plan's row holds its short form, a row the migration filled (one run per
/// installment, by its own SQL run here against the real database) reads the same, and a row without it falls back to
/// the installments' rows — each time a payment is allocated as the schedule says. On SQLite and on PostgreSQL.
/// </summary>
public abstract class ScheduleRunsStorageTests(LienServer server, Migration migration)
{
    protected LienServer Server { get; } = server;

    [Fact]
    public async Task Payment_OnRowsWrittenByThePlan_TheMigrationOrNeither_AllocatesByTheSchedule()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var d = Server.Today;
        var body = new
        {
            deviceId = device.Id(), borrowerReference = "cust-runs", price = 60_00 + 3 * 100_00 + 40_00, downPayment = 0,
            installments = new[]
            {
                new { dueDate = d.AddDays(5), amount = 60_00 }, new { dueDate = d.AddDays(12), amount = 100_00 },
                new { dueDate = d.AddDays(19), amount = 100_00 }, new { dueDate = d.AddDays(26), amount = 100_00 },
                new { dueDate = d.AddMonths(2), amount = 40_00 },
            },
        };
        var plan = (await (await a.Admin.PostAsJsonAsync("/v1/plans", body)).Json(HttpStatusCode.Created)).Id();
        var runs = () => Server.WithDbAsync(db => db.Plans.AsNoTracking().Where(p => p.Id == plan).Select(p => p.ScheduleRuns).SingleAsync());
        Assert.Equal($"1,{d.AddDays(5):yyyy-MM-dd},1,6000,0d;2,{d.AddDays(12):yyyy-MM-dd},3,10000,7d;5,{d.AddMonths(2):yyyy-MM-dd},1,4000,0d", await runs());

        var paid = new List<long>();
        async Task PayAndCheck(long amount)
        {
            await (await a.Admin.PayAsync(plan, amount)).Json(HttpStatusCode.Created);
            var view = await a.Admin.ReadAsync($"/v1/plans/{plan}");
            var total = paid.Append(amount).Sum();
            paid.Add(amount);
            var left = total;
            var expected = body.installments.Select(i => { var take = Math.Min(left, i.amount); left -= take; return take; });
            Assert.Equal(expected, view.GetProperty("installments").EnumerateArray().Select(i => i.Long("paid")));
            // What the payment's own review made of the schedule it read: the oldest installment not paid in full.
            left = total;
            var oldest = body.installments.First(i => (left -= i.amount) < 0).dueDate;
            Assert.Equal(oldest, await Server.WithDbAsync(db => db.Plans.AsNoTracking().Where(p => p.Id == plan).Select(p => p.OldestUnpaidDue).SingleAsync()));
        }
        await PayAndCheck(300_00);

        // A row without runs: the installments' rows are read.
        await Server.WithDbAsync(db => db.Plans.Where(p => p.Id == plan).ExecuteUpdateAsync(s => s.SetProperty(p => p.ScheduleRuns, (string?)null)));
        await PayAndCheck(10_00);

        // The migration's own SQL fills it again, one run per installment.
        var sql = Assert.Single(migration.UpOperations.OfType<SqlOperation>()).Sql;
        await Server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(sql));
        Assert.Equal(string.Join(';', body.installments.Select((i, n) => $"{n + 1},{i.dueDate:yyyy-MM-dd},1,{i.amount},0d")), await runs());
        await PayAndCheck(75_00);
        Assert.Equal(body.installments.Select((i, n) => new Installment(n + 1, i.dueDate, i.amount)), ScheduleRuns.Decode((await runs())!));
    }
}

public sealed class SqliteScheduleRunsStorageTests(SqliteServer server)
    : ScheduleRunsStorageTests(server, new Lien.Server.Storage.Migrations.Sqlite.ScheduleRuns()), IClassFixture<SqliteServer>;

public sealed class PostgresScheduleRunsStorageTests(PostgresServer server)
    : ScheduleRunsStorageTests(server, new Lien.Server.Storage.Migrations.Postgres.ScheduleRuns()), IClassFixture<PostgresServer>;
