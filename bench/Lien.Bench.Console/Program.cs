// The console's device list (issue #14): how long the real server (Release build, its own process, a fresh SQLite file
// by default) takes to answer GET /console/devices — the first page, a search by IMEI, a search by plan reference, a
// state filter, a days-past-due filter and a deep page — for a signed-in operator of a lender with --devices devices
// (10,000 by default; --plans of them on a plan, a tenth of those a backdated one, so they are past due). Sequential
// requests, after --warm of each: the time one staff member waits for a page. Target: under 300 ms on SQLite.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Lien.Bench;

var options = BenchOptions.Parse(args, sqliteByDefault: true, (Concurrency: 1, Seconds: 1, Warmup: 0), ["--devices", "--plans", "--requests", "--warm"],
    "--sqlite (default), --postgres [CS], --devices N (default 10000), --plans N (default 1000), --requests N (default 40), --warm N (default 5), --server PATH, --env=KEY=VALUE");
var count = options.Int("--devices", 10_000, 1);
var planned = Math.Min(count, options.Int("--plans", 1_000, 1));
var requests = options.Int("--requests", 40, 1);
var warm = options.Int("--warm", 5, 0);

using var bench = new BenchServer(options, "console", []);
bench.CreateDatabase();
var key = await bench.CreateLenderAsync();
var api = await bench.StartAsync(key);
var started = Stopwatch.GetTimestamp();
var devices = await BenchServer.ImportDevicesAsync(api, count);
var today = DateOnly.FromDateTime(TimeProvider.System.GetUtcNow().UtcDateTime);
string? reference = null;
for (var i = 0; i < planned; i++)
{
    var late = i % 10 == 0;
    using var r = await api.PostAsJsonAsync("/v1/plans", new
    {
        deviceId = devices[i].Id, price = 3 * 100_00L, downPayment = 0L, borrowerPhone = $"+2547{i:00000000}", backdated = late,
        generate = new { count = 3, frequency = "Monthly", firstDueDate = (late ? today.AddDays(-20) : today.AddDays(20)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) },
    });
    if (!r.IsSuccessStatusCode) throw new InvalidOperationException($"plan: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
    reference ??= (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("reference").GetString();
}
Console.WriteLine($"{count} devices, {planned} plans made through the API in {Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s");

// An operator, invited by the admin key, password set through the invite link, signed in by the login form.
const string password = "bench console password";
var invite = await (await api.PostAsJsonAsync("/v1/console/users", new { userName = "bench-operator", role = "operator" })).Content.ReadFromJsonAsync<JsonElement>();
var console = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }) { BaseAddress = api.BaseAddress };
var inviteUrl = new Uri(invite.GetProperty("inviteUrl").GetString()!).PathAndQuery;
var page = await console.GetStringAsync(inviteUrl);
await Post("/console/invite", page, new() { ["user"] = Hidden(page, "user"), ["token"] = Hidden(page, "token"), ["password"] = password, ["confirm"] = password });
page = await console.GetStringAsync("/console/login");
var login = await Post("/console/login", page, new() { ["userName"] = "bench-operator", ["password"] = password });
if (login.StatusCode != HttpStatusCode.Redirect) throw new InvalidOperationException("console login failed");

var cases = new (string Name, string Url)[]
{
    ("first page", "/console/devices"),
    ("search by IMEI", $"/console/devices?q={devices[count / 2].Imei}"),
    ("search by plan reference", $"/console/devices?q={reference}"),
    ("state = Notice", "/console/devices?state=Notice"),
    ("days past due >= 1", "/console/devices?dpd=1"),
    ($"page {count / 50 / 2}", $"/console/devices?pg={count / 50 / 2}"),
};
Console.WriteLine($"GET /console/devices, {options.Store}, {count} devices, {requests} sequential requests each after {warm} warm-up (ms)");
Console.WriteLine("| case | p50 | p95 | max |");
Console.WriteLine("|---|---:|---:|---:|");
foreach (var (name, url) in cases)
{
    for (var i = 0; i < warm; i++) await Get(url);
    var ms = new List<double>();
    for (var i = 0; i < requests; i++) ms.Add(await Get(url));
    ms.Sort();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {ms[ms.Count / 2]:0.0} | {ms[(int)Math.Ceiling(ms.Count * 0.95) - 1]:0.0} | {ms[^1]:0.0} |"));
}
Console.WriteLine($"load average: {BenchServer.LoadAverage()}");

async Task<double> Get(string url)
{
    var t = Stopwatch.GetTimestamp();
    using var r = await console.GetAsync(url);
    var body = await r.Content.ReadAsStringAsync();
    if (r.StatusCode != HttpStatusCode.OK || !body.Contains("device-total", StringComparison.Ordinal)) throw new InvalidOperationException($"{url}: {(int)r.StatusCode}");
    return Stopwatch.GetElapsedTime(t).TotalMilliseconds;
}

async Task<HttpResponseMessage> Post(string url, string form, Dictionary<string, string> fields)
{
    fields["__lien_af"] = Hidden(form, "__lien_af");
    return await console.PostAsync(url, new FormUrlEncodedContent(fields));
}

static string Hidden(string page, string name) =>
    WebUtility.HtmlDecode(Regex.Match(page, $"<input[^>]*name=\"{Regex.Escape(name)}\"[^>]*value=\"([^\"]*)\"").Groups[1].Value);
