using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Lien.Protocol;

namespace Lien.Server.Tests.Lifecycle;

/// <summary>
/// The lifecycle around the lock through the real server, the fake clock walked review by review over months in the
/// lender's time zone: each notice on its day (in the lease, and told to the notice listeners in the lease's transaction),
/// the lock exactly when the profile allows and inside the window, unlock at once on payment; rbi-2026; disputes from the
/// phone and by staff; staff actions. On SQLite and PostgreSQL.
/// </summary>
public abstract class LifecycleTests(LienServer server)
{
    protected LienServer Server { get; } = server;
    private static readonly TimeZoneInfo Nairobi = TimeZoneInfo.FindSystemTimeZoneById("Africa/Nairobi");

    private async Task<List<JsonElement>> LeasesAsync(Tenant a, Guid device) =>
        (await a.Admin.ReadAsync($"/v1/devices/{device}/leases?limit=500")).EnumerateArray().Reverse().ToList();

    private static async Task<List<string>> ActionsAsync(Tenant a) =>
        (await a.Admin.ReadAsync("/v1/audit?limit=500")).EnumerateArray().Select(e => e.Str("action")).ToList();

    private static string? Kind(JsonElement lease) => lease.GetProperty("notice").ValueKind == JsonValueKind.Null ? null : lease.GetProperty("notice").Str("kind");

    [Fact]
    public async Task Walk_StandardOverMonths_NoticesOnTheirDaysLockInsideTheWindowUnlockAtOnce()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var due = Server.Today.AddDays(10);
        var plan = await a.Admin.PlanAsync(device.Id(), due, count: 3);
        await Server.WalkUntilLockedAsync(device.Id());

        var leases = await LeasesAsync(a, device.Id());
        var firsts = leases.Where((l, i) => Kind(l) is not null && (i == 0 || Kind(leases[i - 1]) != Kind(l))).ToList();
        Assert.Equal(["reminder", "due-today", "overdue", "lock-warning", "locked"], firsts.Select(Kind));
        DateTimeOffset Issued(string kind) => firsts.Single(l => Kind(l) == kind).GetProperty("issuedAt").GetDateTimeOffset();
        // Each on its day, at the window's opening hour (08:00 in Nairobi).
        Assert.Equal(LockWindow.SupportHours.NoticeTime(due.AddDays(-3), Nairobi), Issued("reminder"));
        Assert.Equal(LockWindow.SupportHours.NoticeTime(due, Nairobi), Issued("due-today"));
        Assert.Equal(LockWindow.SupportHours.NoticeTime(due.AddDays(1), Nairobi), Issued("overdue"));
        // The lock: exactly at the instant the warning named, the first window instant after grace, at least 24 hours after it.
        var lockAt = LockWindow.SupportHours.AtOrAfter(Policy.EndOfDay(due.AddDays(3), Nairobi), Nairobi);
        var warning = firsts.Single(l => Kind(l) == "lock-warning").GetProperty("notice");
        Assert.Equal(lockAt, warning.GetProperty("deadline").GetDateTimeOffset());
        Assert.Equal(lockAt, Issued("locked"));
        Assert.True(Issued("locked") >= Issued("lock-warning").AddHours(24));
        Assert.True(LockWindow.SupportHours.Contains(Issued("locked"), Nairobi));
        Assert.Equal(100_00, warning.Long("amountMinor"));

        // Every notice was told to the listeners once, with its lease, in the lease's unit of work.
        var told = Server.Notices.For(device.Id());
        Assert.Equal(["reminder", "due-today", "overdue", "lock-warning", "locked"], told.Select(n => n.Kind));
        Assert.All(told, n => Assert.True(n.WithItsLease));
        Assert.Equal(firsts.Select(l => l.Long("seq")), told.Select(n => n.LeaseSeq));

        // Paid on a Sunday night, outside the window: unlocked at once.
        var sunday = Server.Time.GetUtcNow();
        while (TimeZoneInfo.ConvertTime(sunday, Nairobi) is { DayOfWeek: not DayOfWeek.Sunday } or { Hour: < 21 }) sunday = sunday.AddHours(1);
        await Server.WalkAsync(sunday);
        var paid = await (await a.Admin.PayAsync(plan.Id(), 100_00)).Json(HttpStatusCode.Created);
        Assert.Equal("Unlocked", paid.Str("leaseMode"));
        var lease = await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease");
        Assert.Equal("unlocked", lease.GetProperty("notice").Str("kind"));
        Assert.Equal(sunday, lease.GetProperty("issuedAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task Walk_Rbi2026_BothNoticesAndNeverBefore90DaysPastDue()
    {
        var a = await Server.NewLenderAsync(name: "Kolkata Phones", currency: "INR", zone: "Asia/Kolkata");
        await (await a.Admin.PatchAsJsonAsync("/v1/lender", new { policyProfile = "rbi-2026" })).Json(HttpStatusCode.OK);
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Asia/Kolkata");
        var device = await a.Admin.RegisterAsync();
        var due = Policy.LocalDate(Server.Time.GetUtcNow(), zone).AddDays(5);
        await a.Admin.PlanAsync(device.Id(), due, count: 1);
        await Server.WalkUntilLockedAsync(device.Id());

        var leases = await LeasesAsync(a, device.Id());
        var locked = leases.First(l => l.Str("mode") == "Locked");
        var lockedAt = locked.GetProperty("issuedAt").GetDateTimeOffset();
        Assert.True(lockedAt >= Policy.EndOfDay(due.AddDays(90), zone), $"locked at {lockedAt}");
        Assert.True(LockWindow.SupportHours.Contains(lockedAt, zone));
        var first = leases.First(l => Kind(l) == "first-notice").GetProperty("notice");
        var second = leases.First(l => Kind(l) == "second-notice").GetProperty("notice");
        Assert.Equal(LockWindow.SupportHours.NoticeTime(due.AddDays(60), zone), first.GetProperty("at").GetDateTimeOffset());
        Assert.True(first.GetProperty("deadline").GetDateTimeOffset() >= first.GetProperty("at").GetDateTimeOffset().AddDays(21));
        Assert.True(second.GetProperty("at").GetDateTimeOffset() >= first.GetProperty("deadline").GetDateTimeOffset());
        Assert.True(lockedAt >= second.GetProperty("deadline").GetDateTimeOffset());
        Assert.Contains(leases, l => Kind(l) == "lock-warning" && l.GetProperty("issuedAt").GetDateTimeOffset() <= lockedAt.AddHours(-24));
        Assert.Equal("rbi-2026", (await a.Admin.ReadAsync("/v1/audit?limit=500")).EnumerateArray().Last(e => e.Str("action") == "device.locked").Str("policy"));
    }

    [Fact]
    public async Task Dispute_FromThePhone_HoldsTheLockForItsBoundThenExpires_AndStaffResolve()
    {
        var a = await Server.NewLenderAsync(enrollment: "open");
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(-4), count: 2, backdated: true);
        var enrolled = await Server.Client().EnrollAsync(device.Str("imei"));
        var warned = await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease");
        Assert.Equal("lock-warning", warned.GetProperty("notice").Str("kind"));

        using var phone = Server.Client();
        phone.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Device", enrolled.DeviceToken);
        var opened = await (await phone.PostAsJsonAsync("/v1/device/dispute", new DisputeMessage("Paid", "QK7 9", null))).Json(HttpStatusCode.Created);
        var holds = opened.GetProperty("holdsLockUntil").GetDateTimeOffset();
        Assert.Equal(Server.Time.GetUtcNow().AddDays(7), holds); // the standard profile's bound
        var moved = await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease");
        Assert.Equal(LockWindow.SupportHours.AtOrAfter(holds, Nairobi), moved.GetProperty("notice").GetProperty("deadline").GetDateTimeOffset());
        // One open dispute at a time; a forged token is refused.
        await (await phone.PostAsJsonAsync("/v1/device/dispute", new DisputeMessage("Other", null, "again"))).Problem(HttpStatusCode.Conflict);
        using var forged = Server.Client();
        forged.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Device", enrolled.DeviceToken[..^2] + "xx");
        await (await forged.PostAsJsonAsync("/v1/device/dispute", new DisputeMessage("Other", null, "x"))).Problem(HttpStatusCode.Unauthorized);

        await Server.WalkAsync(holds.AddSeconds(-1));
        Assert.Equal("Unlocked", (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease")).Str("mode"));
        await Server.WalkUntilLockedAsync(device.Id());
        var lockedAt = (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease")).GetProperty("issuedAt").GetDateTimeOffset();
        Assert.Equal(LockWindow.SupportHours.AtOrAfter(holds, Nairobi), lockedAt);
        var dispute = (await a.Admin.ReadAsync($"/v1/disputes?planId={plan.Id()}")).GetProperty("items")[0];
        Assert.Equal("Expired", dispute.Str("state"));
        Assert.Equal("device", dispute.Str("openedBy"));
        var actions = await ActionsAsync(a);
        Assert.Contains("dispute.opened", actions);
        Assert.Contains("dispute.expired", actions);

        // Staff open one for the borrower and resolve it with a reason.
        var staff = await (await a.Admin.PostAsJsonAsync($"/v1/plans/{plan.Id()}/disputes", new { kind = "Other", text = "Says the shop took cash." }))
            .Json(HttpStatusCode.Created);
        await (await a.Admin.PostAsJsonAsync($"/v1/disputes/{staff.Id()}/resolve", new { reason = "" })).Problem(HttpStatusCode.BadRequest);
        var resolved = await (await a.Admin.PostAsJsonAsync($"/v1/disputes/{staff.Id()}/resolve", new { reason = "No cash payment on record." }))
            .Json(HttpStatusCode.OK);
        Assert.Equal("Resolved", resolved.Str("state"));
        await (await a.Admin.PostAsJsonAsync($"/v1/disputes/{staff.Id()}/resolve", new { reason = "twice" })).Problem(HttpStatusCode.Conflict);
        Assert.Contains("dispute.resolved", await ActionsAsync(a));
        var other = await Server.NewLenderAsync();
        await (await other.Admin.PostAsJsonAsync($"/v1/disputes/{staff.Id()}/resolve", new { reason = "not mine" })).Problem(HttpStatusCode.NotFound);
        Assert.Empty((await other.Admin.ReadAsync("/v1/disputes")).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Dispute_LockedPhoneStaysLocked_NoPlanIsNotFound()
    {
        var a = await Server.NewLenderAsync(enrollment: "open");
        var device = await a.Admin.RegisterAsync();
        await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(-4), count: 1, backdated: true);
        await Server.WalkUntilLockedAsync(device.Id());
        var enrolled = await Server.Client().EnrollAsync(device.Str("imei"));
        using var phone = Server.Client();
        phone.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Device", enrolled.DeviceToken);
        await (await phone.PostAsJsonAsync("/v1/device/dispute", new DisputeMessage("Other", null, "The shop said I was paid up."))).Json(HttpStatusCode.Created);
        Assert.Equal("Locked", (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease")).Str("mode")); // a dispute blocks a new lock; it does not unlock

        var free = await a.Admin.RegisterAsync();
        var freeEnrolled = await Server.Client().EnrollAsync(free.Str("imei"));
        using var freePhone = Server.Client();
        freePhone.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Device", freeEnrolled.DeviceToken);
        await (await freePhone.PostAsJsonAsync("/v1/device/dispute", new DisputeMessage("Other", null, "x"))).Problem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task StaffActions_Bounded_Audited_AndNeverPastAnInvariant()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(-4), count: 2, backdated: true);
        var viewer = await a.KeyAsync("Viewer", Server);
        var operatorKey = await a.KeyAsync("Operator", Server);

        // Lock now: refused while the warned instant has not come (the borrower was told when), nothing written.
        var refused = await (await operatorKey.PostAsJsonAsync($"/v1/devices/{device.Id()}/lock", new { reason = "not paying" })).Problem(HttpStatusCode.Conflict);
        Assert.Contains("lock warning names", refused.GetProperty("detail").GetString());
        Assert.DoesNotContain("device.locked-by-staff", await ActionsAsync(a));
        await (await viewer.PostAsJsonAsync($"/v1/devices/{device.Id()}/lock", new { reason = "x" })).Problem(HttpStatusCode.Forbidden);

        // A promise-to-pay within the profile's 14 days postpones the lock past its date; beyond it is refused.
        var today = Server.Today;
        await (await operatorKey.PostAsJsonAsync($"/v1/plans/{plan.Id()}/promise-to-pay", new { until = today.AddDays(15), reason = "salary" }))
            .Problem(HttpStatusCode.UnprocessableEntity);
        var promised = await (await operatorKey.PostAsJsonAsync($"/v1/plans/{plan.Id()}/promise-to-pay", new { until = today.AddDays(5), reason = "salary on Friday" }))
            .Json(HttpStatusCode.OK);
        Assert.Equal(LockWindow.SupportHours.AtOrAfter(Policy.EndOfDay(today.AddDays(5), Nairobi), Nairobi), promised.GetProperty("notice").GetProperty("deadline").GetDateTimeOffset());
        await Server.WalkUntilLockedAsync(device.Id());
        var lockedAt = (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease")).GetProperty("issuedAt").GetDateTimeOffset();
        Assert.True(lockedAt >= Policy.EndOfDay(today.AddDays(5), Nairobi));

        // Goodwill: unlocked at once, for at most the profile's 72 hours, warned again before it locks again.
        await (await operatorKey.PostAsJsonAsync($"/v1/devices/{device.Id()}/goodwill-unlock", new { hours = 73, reason = "hospital" })).Problem(HttpStatusCode.UnprocessableEntity);
        var goodwill = await (await operatorKey.PostAsJsonAsync($"/v1/devices/{device.Id()}/goodwill-unlock", new { hours = 48, reason = "hospital" }))
            .Json(HttpStatusCode.OK);
        Assert.Equal("Unlocked", goodwill.Str("mode"));
        Assert.Equal("lock-warning", goodwill.GetProperty("notice").Str("kind"));
        var relock = goodwill.GetProperty("notice").GetProperty("deadline").GetDateTimeOffset();
        Assert.True(relock >= Server.Time.GetUtcNow().AddHours(48));

        // At the warned instant, before the scheduler ran, staff may lock: the policy itself would.
        Server.Time.SetUtcNow(relock);
        var locked = await (await operatorKey.PostAsJsonAsync($"/v1/devices/{device.Id()}/lock", new { reason = "goodwill over" })).Json(HttpStatusCode.OK);
        Assert.Equal("Locked", locked.Str("mode"));

        // Early release: admin only.
        await (await operatorKey.PostAsJsonAsync($"/v1/devices/{device.Id()}/release", new { reason = "settled" })).Problem(HttpStatusCode.Forbidden);
        var released = await (await a.Admin.PostAsJsonAsync($"/v1/devices/{device.Id()}/release", new { reason = "settled in cash" })).Json(HttpStatusCode.OK);
        Assert.Equal("Released", released.Str("mode"));
        Assert.Equal("Cancelled", (await a.Admin.ReadAsync($"/v1/plans/{plan.Id()}")).Str("lifecycle"));
        var actions = await ActionsAsync(a);
        Assert.Contains("plan.promise-to-pay", actions);
        Assert.Contains("device.goodwill-unlock", actions);
        Assert.Contains("device.locked-by-staff", actions);
        Assert.Contains("device.released-early", actions);
    }

    [Fact]
    public async Task Repossessed_InStock_FinancedAgainOnANewPlan()
    {
        var a = await Server.NewLenderAsync(enrollment: "open");
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(-4), count: 2, backdated: true);
        var enrolled = await Server.Client().EnrollAsync(device.Str("imei"));
        var viewer = await a.KeyAsync("Viewer", Server);
        await (await viewer.PostAsJsonAsync($"/v1/devices/{device.Id()}/repossess", new { reason = "x" })).Problem(HttpStatusCode.Forbidden);
        await (await a.Admin.PostAsJsonAsync($"/v1/devices/{device.Id()}/restock", new { reason = "too early" })).Problem(HttpStatusCode.Conflict);

        var taken = await (await a.Admin.PostAsJsonAsync($"/v1/devices/{device.Id()}/repossess", new { reason = "collected at the branch" })).Json(HttpStatusCode.OK);
        Assert.Equal("Unlocked", taken.Str("mode"));
        Assert.Equal("Cancelled", (await a.Admin.ReadAsync($"/v1/plans/{plan.Id()}")).Str("lifecycle"));
        // Not financed again before it is in stock; its IMEI stays claimed by the lender.
        var refused = await (await a.Admin.PostAsJsonAsync("/v1/plans", new
        {
            deviceId = device.Id(), price = 300_00, downPayment = 0, currency = "KES",
            generate = new { count = 3, frequency = "Monthly", firstDueDate = Server.Today.AddDays(30) },
        })).Problem(HttpStatusCode.Conflict);
        Assert.Contains("restock", refused.GetProperty("detail").GetString());
        await (await a.Admin.PostAsJsonAsync("/v1/devices", new { imei = device.Str("imei") })).Problem(HttpStatusCode.Conflict);

        await (await a.Admin.PostAsJsonAsync($"/v1/devices/{device.Id()}/restock", new { reason = "wiped, boxed" })).Json(HttpStatusCode.OK);
        await (await a.Admin.PostAsJsonAsync($"/v1/devices/{device.Id()}/restock", new { reason = "twice" })).Problem(HttpStatusCode.Conflict);
        // The earlier borrower's enrollment has ended: the next buyer's phone enrolls afresh.
        Assert.Equal(HttpStatusCode.Unauthorized, (await Server.Client().CheckInAsync(enrolled.DeviceToken, enrolled.Seq)).StatusCode);
        var again = await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(30), count: 3);
        Assert.Equal("Active", again.Str("lifecycle"));
        var actions = await ActionsAsync(a);
        Assert.Contains("device.repossessed", actions);
        Assert.Contains("device.restocked", actions);
    }

    [Fact]
    public async Task Settings_ProfileAndOverrides_ValidatedAndShown()
    {
        var a = await Server.NewLenderAsync();
        var view = await (await a.Admin.PatchAsJsonAsync("/v1/lender", new
        {
            policyProfile = "custom",
            policy = new { graceDays = 5, reminderDaysBeforeDue = new[] { 7, 0 }, lockWindow = new { startHour = 9, endHour = 17, days = new[] { "Monday", "Wednesday", "Friday" } } },
        })).Json(HttpStatusCode.OK);
        var settings = view.GetProperty("settings");
        Assert.Equal("custom", settings.Str("policyProfile"));
        Assert.Equal(5, settings.GetProperty("policy").GetProperty("graceDays").GetInt32());
        var refused = await (await a.Admin.PatchAsJsonAsync("/v1/lender", new { policyProfile = "rbi-2026", policy = new { graceDays = 30 } })).Problem(HttpStatusCode.BadRequest);
        Assert.True(refused.GetProperty("errors").TryGetProperty("policy.graceDays", out _), refused.ToString());
        // The lender's overrides drive its plans: a reminder 7 days ahead.
        var device = await a.Admin.RegisterAsync();
        await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(20), count: 1);
        await Server.WalkAsync(LockWindow.SupportHours.NoticeTime(Server.Today.AddDays(13), Nairobi).AddHours(2));
        Assert.Equal("reminder", (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease")).GetProperty("notice").Str("kind"));
    }
}

public sealed class SqliteLifecycleTests(SqliteServer server) : LifecycleTests(server), IClassFixture<SqliteServer>;

public sealed class PostgresLifecycleTests(PostgresServer server) : LifecycleTests(server), IClassFixture<PostgresServer>;
