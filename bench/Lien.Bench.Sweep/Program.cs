// The scheduler's sweep (issue #12): how long the real server takes to review the plans that are due, and whether that
// follows the due work rather than the fleet. Starts the real server (Release build) as its own process on a fresh
// SQLite file (or, with --postgres, a fresh PostgreSQL database), makes one lender, device and plan through the API, and
// copies them (every column, whatever the schema holds, but the keys) into a fleet of --fleets plans directly in the
// database — a million plans through the API would take hours. For each fleet size in turn (the fleet grows between
// them): starts the server, makes --warm plans due and waits for the server to review them (the JIT's warm-up), then
// makes --due other plans due at once and takes the time the server reports for that sweep ("Reviewed N due plans in
// X s", its scheduler's own log line) and the server's CPU over it. Every reviewed plan here issues its device a lease
// (signed, written, audited) carrying a reminder notice — each plan's first installment is due in two days — and the
// reminder's SMS is queued in the same transaction (an Africa's Talking account is configured, the sender is off on the
// node): the table gives the SMS notices queued per second of the sweep.
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Lien.Bench;
using Microsoft.Data.Sqlite;
using Npgsql;

var options = BenchOptions.Parse(args, sqliteByDefault: true, (Concurrency: 1, Seconds: 1, Warmup: 0), ["--fleets", "--due", "--warm"],
    "--sqlite (default), --postgres [CS], --fleets N,N (default 100000,1000000), --due N (default 10000), --warm N (default 5000), --server PATH, --env=KEY=VALUE");
var fleets = (options.Values.GetValueOrDefault("--fleets") ?? "100000,1000000").Split(',').Select(f => int.Parse(f, CultureInfo.InvariantCulture)).ToArray();
var due = options.Int("--due", 10_000, 1);
var warm = options.Int("--warm", 5_000, 1);
var perRound = due + warm;
if (fleets.Zip(fleets.Skip(1)).Any(p => p.First >= p.Second) || fleets[0] <= fleets.Length * perRound)
    throw new ArgumentException($"--fleets must grow, and the first must exceed {fleets.Length} × (--due + --warm) = {fleets.Length * perRound}");

var time = TimeProvider.System;
using var bench = new BenchServer(options, "sweep",
[
    new("Lien__Review__Interval", "00:00:01"),
    new("Logging__LogLevel__Lien.Server.Scheduling", "Information"),
    new("Lien__WarmUp", "false"), // the bench warms the sweep itself, with --warm plans
    // SMS notices are queued (an account is configured) but never sent: the dispatcher is off on this node.
    new("Lien__Sms__AfricasTalking__Username", "bench"),
    new("Lien__Sms__AfricasTalking__ApiKey", "bench"),
    new("Lien__Sms__AfricasTalking__BaseUrl", "http://127.0.0.1:9/"),
    new("Lien__Sms__PollInterval", "00:00:00"),
]);
bench.CreateDatabase();
var key = await bench.CreateLenderAsync("--enrollment", "open");
var api = await bench.StartAsync(key);
var (_, deviceId) = (await BenchServer.ImportDevicesAsync(api, 1))[0];
var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
using var created = await api.PostAsJsonAsync("/v1/plans", new
{
    deviceId, price = 3 * 5_000_00L, downPayment = 0L, borrowerPhone = "+254700000001",
    generate = new { count = 3, frequency = "Monthly", firstDueDate = today.AddDays(2).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) },
});
if (!created.IsSuccessStatusCode) throw new InvalidOperationException($"plan: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
var template = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
Stop(bench);

var store = options.Sqlite ? (Fleet)new SqliteFleet(Path.Combine(bench.DataDir, "lien.db"), template) : new PostgresFleet(bench.ConnectionString!, template);
var rows = new List<string>();
var copies = 0;
for (var round = 0; round < fleets.Length; round++)
{
    var started = time.GetTimestamp();
    await store.CopyAsync(copies + 1, fleets[round] - 1);
    copies = fleets[round] - 1;
    Console.WriteLine($"fleet of {fleets[round]:N0} plans ready in {time.GetElapsedTime(started).TotalSeconds:F0} s");
    await bench.StartAsync(key);
    var first = round * perRound + 1;
    var warmed = await SweepAsync(first, first + warm - 1);
    Console.WriteLine($"  warm-up: {warm:N0} plans in {warmed.Seconds:F2} s");
    var measured = await SweepAsync(first + warm, first + perRound - 1);
    Console.WriteLine($"  measured: {due:N0} plans in {measured.Seconds:F2} s, server CPU {measured.Cpu:F2} s, {measured.Sms:N0} SMS notices queued");
    rows.Add(string.Create(CultureInfo.InvariantCulture,
        $"| {options.Store} | {fleets[round]:N0} | {due:N0} | {measured.Seconds:F2} | {due / measured.Seconds:F0} | {measured.Cpu * 1000 / due:F2} | {measured.Sms:N0} | {measured.Sms / measured.Seconds:F0} |"));
    Stop(bench);
}

Console.WriteLine();
Console.WriteLine($"load average at the end {BenchServer.LoadAverage()} ({Environment.ProcessorCount} cores; other processes share them)");
bench.Log.Print();
Console.WriteLine();
Console.WriteLine("| store | plans in the fleet | due plans | sweep s | plans/s | server CPU ms per plan | SMS notices queued | SMS queued/s |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
foreach (var row in rows) Console.WriteLine(row);
if (rows.Count > 1)
{
    var seconds = rows.Select(r => double.Parse(r.Split('|')[4], CultureInfo.InvariantCulture)).ToArray();
    Console.WriteLine($"largest fleet against smallest: {seconds[^1] / seconds[0]:P0} of the time");
}
return bench.Log.Errors == 0 ? 0 : 1;

// Makes plans first..last due (their next review instant: the template's creation, a moment in the past) and waits for
// the server's scheduler to report the sweep of exactly that many.
async Task<(double Seconds, double Cpu, long Sms)> SweepAsync(int first, int last)
{
    var count = last - first + 1;
    var report = new TaskCompletionSource<double>(TaskCreationOptions.RunContinuationsAsynchronously);
    void Watch(string line)
    {
        var m = Regex.Match(line, @"Reviewed (\d+) due plans in ([\d.]+) s");
        if (!m.Success) return;
        var reviewed = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        if (reviewed == count) report.TrySetResult(double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
        else report.TrySetException(new InvalidOperationException($"the server reviewed {reviewed} plans in one pass, not the {count} made due"));
    }
    bench.Log.Line += Watch;
    try
    {
        var sms = await store.CountAsync("SmsMessages");
        var before = new CpuSample(bench.Process!.Id, []);
        await store.MakeDueAsync(first, last);
        var seconds = await report.Task.WaitAsync(TimeSpan.FromMinutes(10));
        var cpu = (new CpuSample(bench.Process.Id, []).Server - before.Server).TotalSeconds;
        return (seconds, cpu, await store.CountAsync("SmsMessages") - sms);
    }
    finally
    {
        bench.Log.Line -= Watch;
    }
}

static void Stop(BenchServer bench)
{
    bench.Process!.Kill(entireProcessTree: true);
    bench.Process.WaitForExit();
}

/// <summary>The fleet in the server's database: plan n (1, 2, …) is a copy of the template plan, on a copy of its device.</summary>
internal abstract class Fleet(Guid template)
{
    protected Guid Template { get; } = template;

    /// <summary>Adds copies <paramref name="from"/>..<paramref name="to"/> of the template's device, plan and installments.</summary>
    public abstract Task CopyAsync(int from, int to);

    /// <summary>Makes plans <paramref name="first"/>..<paramref name="last"/> due now, in one statement.</summary>
    public abstract Task MakeDueAsync(int first, int last);

    /// <summary>The rows of <paramref name="table"/>.</summary>
    public abstract Task<long> CountAsync(string table);

    protected static string Reference(int n) => string.Create(CultureInfo.InvariantCulture, $"SW{n:0000000}");
}

internal sealed class SqliteFleet(string file, Guid template) : Fleet(template)
{
    private readonly string _connection = new SqliteConnectionStringBuilder { DataSource = file, DefaultTimeout = 120 }.ConnectionString;

    public override async Task CopyAsync(int from, int to)
    {
        await using var db = new SqliteConnection(_connection);
        await db.OpenAsync();
        // The server is stopped: the file is ours, and a rollback journal writes a copy of this size far faster than WAL.
        await ExecAsync(db, "PRAGMA journal_mode=DELETE; PRAGMA synchronous=OFF; PRAGMA cache_size=-1000000;");
        var device = "printf('00000000-0000-4000-8000-%012X', s.n)";
        var plan = "printf('00000000-0000-4000-9000-%012X', s.n)";
        await using (var tx = db.BeginTransaction())
        {
            await CopyTableAsync(db, "Devices", """ "Id" = (SELECT "DeviceId" FROM "Plans" WHERE "Id" = $template) """,
                new() { ["Id"] = device, ["Imei"] = "printf('86%013d', s.n)" }, from, to);
            await CopyTableAsync(db, "Plans", """ "Id" = $template """,
                new() { ["Id"] = plan, ["DeviceId"] = device, ["Reference"] = "printf('SW%07d', s.n)", ["PayToken"] = "NULL" }, from, to);
            await CopyTableAsync(db, "PlanInstallments", """ "PlanId" = $template """, new() { ["PlanId"] = plan }, from, to);
            await tx.CommitAsync();
        }
        await ExecAsync(db, "PRAGMA journal_mode=WAL;"); // what the server expects of its file
    }

    private async Task CopyTableAsync(SqliteConnection db, string table, string templateRow, Dictionary<string, string> overrides, int from, int to)
    {
        var columns = new List<string>();
        await using (var info = db.CreateCommand())
        {
            info.CommandText = $"SELECT name FROM pragma_table_info('{table}') ORDER BY cid";
            await using var reader = await info.ExecuteReaderAsync();
            while (await reader.ReadAsync()) columns.Add(reader.GetString(0));
        }
        await using var copy = db.CreateCommand();
        copy.CommandText = $"""
            WITH RECURSIVE s(n) AS (SELECT $from UNION ALL SELECT n + 1 FROM s WHERE n < $to)
            INSERT INTO "{table}" ({string.Join(", ", columns.Select(c => $"\"{c}\""))})
            SELECT {string.Join(", ", columns.Select(c => overrides.GetValueOrDefault(c) ?? $"t.\"{c}\""))} FROM s, "{table}" t WHERE t.{templateRow}
            """;
        copy.Parameters.AddWithValue("$from", from);
        copy.Parameters.AddWithValue("$to", to);
        copy.Parameters.AddWithValue("$template", Template.ToString().ToUpperInvariant());
        await copy.ExecuteNonQueryAsync();
    }

    public override async Task MakeDueAsync(int first, int last)
    {
        await using var db = new SqliteConnection(_connection);
        await db.OpenAsync();
        await using var due = db.CreateCommand();
        due.CommandText = """
            UPDATE "Plans" SET "NextReviewAt" = (SELECT "CreatedAt" FROM "Plans" WHERE "Id" = $template) WHERE "Reference" BETWEEN $first AND $last
            """;
        due.Parameters.AddWithValue("$template", Template.ToString().ToUpperInvariant());
        due.Parameters.AddWithValue("$first", Reference(first));
        due.Parameters.AddWithValue("$last", Reference(last));
        var made = await due.ExecuteNonQueryAsync();
        if (made != last - first + 1) throw new InvalidOperationException($"made {made} plans due, not {last - first + 1}");
    }

    public override async Task<long> CountAsync(string table)
    {
        await using var db = new SqliteConnection(_connection);
        await db.OpenAsync();
        await using var count = db.CreateCommand();
        count.CommandText = $"SELECT count(*) FROM \"{table}\"";
        return (long)(await count.ExecuteScalarAsync())!;
    }

    private static async Task ExecAsync(SqliteConnection db, string sql)
    {
        await using var command = db.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}

internal sealed class PostgresFleet(string connection, Guid template) : Fleet(template)
{
    public override async Task CopyAsync(int from, int to)
    {
        await using var db = new NpgsqlConnection(connection);
        await db.OpenAsync();
        var device = "('00000000-0000-4000-8000-' || lpad(to_hex(s.n), 12, '0'))";
        var plan = "('00000000-0000-4000-9000-' || lpad(to_hex(s.n), 12, '0'))";
        string[] statements =
        [
            $"""
            INSERT INTO "Devices" SELECT (jsonb_populate_record(NULL::"Devices", to_jsonb(t) || jsonb_build_object('Id', {device}, 'Imei', '86' || lpad(s.n::text, 13, '0')))).*
                FROM "Devices" t, generate_series($1, $2) s(n) WHERE t."Id" = (SELECT "DeviceId" FROM "Plans" WHERE "Id" = $3)
            """,
            $"""
            INSERT INTO "Plans" SELECT (jsonb_populate_record(NULL::"Plans", to_jsonb(t) || jsonb_build_object('Id', {plan}, 'DeviceId', {device}, 'Reference', 'SW' || lpad(s.n::text, 7, '0'), 'PayToken', NULL))).*
                FROM "Plans" t, generate_series($1, $2) s(n) WHERE t."Id" = $3
            """,
            $"""
            INSERT INTO "PlanInstallments" SELECT (jsonb_populate_record(NULL::"PlanInstallments", to_jsonb(t) || jsonb_build_object('PlanId', {plan}))).*
                FROM "PlanInstallments" t, generate_series($1, $2) s(n) WHERE t."PlanId" = $3
            """,
        ];
        await using (var tx = await db.BeginTransactionAsync())
        {
            foreach (var sql in statements)
            {
                await using var copy = new NpgsqlCommand(sql, db, tx) { CommandTimeout = 0 };
                copy.Parameters.AddWithValue(from);
                copy.Parameters.AddWithValue(to);
                copy.Parameters.AddWithValue(Template);
                await copy.ExecuteNonQueryAsync();
            }
            await tx.CommitAsync();
        }
        await using var analyze = new NpgsqlCommand("""ANALYZE "Devices"; ANALYZE "Plans"; ANALYZE "PlanInstallments";""", db) { CommandTimeout = 0 };
        await analyze.ExecuteNonQueryAsync();
    }

    public override async Task MakeDueAsync(int first, int last)
    {
        await using var db = new NpgsqlConnection(connection);
        await db.OpenAsync();
        await using var due = new NpgsqlCommand("""
            UPDATE "Plans" SET "NextReviewAt" = (SELECT "CreatedAt" FROM "Plans" WHERE "Id" = $1) WHERE "Reference" BETWEEN $2 AND $3
            """, db);
        due.Parameters.AddWithValue(Template);
        due.Parameters.AddWithValue(Reference(first));
        due.Parameters.AddWithValue(Reference(last));
        var made = await due.ExecuteNonQueryAsync();
        if (made != last - first + 1) throw new InvalidOperationException($"made {made} plans due, not {last - first + 1}");
    }

    public override async Task<long> CountAsync(string table)
    {
        await using var db = new NpgsqlConnection(connection);
        await db.OpenAsync();
        await using var count = new NpgsqlCommand($"SELECT count(*) FROM \"{table}\"", db);
        return (long)(await count.ExecuteScalarAsync())!;
    }
}
