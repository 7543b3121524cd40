using System.Net;
using Lien.Server.Notices;
using Lien.Server.Tests.Notices;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Lien.Server.Tests.Borrower;

/// <summary>
/// The USSD menu and the SMS keywords on Africa's Talking's callbacks, through HTTP on both databases: every menu path,
/// wrong input, an unknown number, an expired session (the fake clock moved), a session carried on by a new server instance;
/// each keyword, a message delivered twice answered once, a stranger; hostile callbacks refused, never a 500.
/// </summary>
public abstract class ShortCodeTests(SmsServer server)
{
    private const string Ussd = "/v1/ussd/africastalking?token=" + SmsServer.CallbackToken;
    private const string Incoming = "/v1/sms/africastalking/incoming?token=" + SmsServer.CallbackToken;

    private async Task<string> DialAsync(string session, string phone, string text, HttpClient? client = null)
    {
        var r = await (client ?? server.Client()).PostAsync(Ussd, new FormUrlEncodedContent(
            [new("sessionId", session), new("serviceCode", "*483*7#"), new("phoneNumber", phone), new("text", text)]));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("text/plain", r.Content.Headers.ContentType?.MediaType);
        return await r.Content.ReadAsStringAsync();
    }

    // The SMS sent to a number that are answers (not the plan's notices, which go to the same number).
    private async Task<List<AfricasTalkingStandIn.Sms>> SentAsync(string to)
    {
        await server.Services.GetRequiredService<SmsDispatcher>().SendDueAsync(CancellationToken.None);
        var notices = await server.WithDbAsync(db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ToListAsync(
            db.SmsMessages.Where(m => m.To == to && m.Kind != "reply" && m.Kind != "code").Select(m => m.Text)));
        return server.AfricasTalking.Messages.Where(m => m.To == to && !notices.Contains(m.Message)).ToList();
    }

    // Never one of the stand-in's numbers that fail (ending 500, 403, 405, 406): a random one did, one run in a thousand.
    private static string Phone() => "+2547" + Random.Shared.Next(1_000_000, 9_999_999) + "1";

    [Fact]
    public async Task Ussd_Balance_Back_Home_WrongInput()
    {
        var b = await BorrowerSetup.NewAsync(server, Phone(), locked: true);
        var s = Guid.NewGuid().ToString();
        var home = await DialAsync(s, b.Phone, "");
        Assert.StartsWith("CON Jua Phones " + b.Reference, home);
        Assert.Contains("1. Balance", home);
        var balance = await DialAsync(s, b.Phone, "1");
        Assert.StartsWith("CON Due now: KES 100", balance);
        Assert.Contains("Balance: KES 300", balance);
        Assert.Equal(balance, await DialAsync(s, b.Phone, "1")); // the same request again: the same answer
        Assert.StartsWith("CON Jua Phones", await DialAsync(s, b.Phone, "1*0"));
        var wrong = await DialAsync(s, b.Phone, "1*0*9");
        Assert.StartsWith("CON Invalid choice.", wrong);
        Assert.Contains("1. Balance", wrong);
        Assert.StartsWith("CON Due now", await DialAsync(s, b.Phone, "1*0*9*1"));
        Assert.StartsWith("CON Jua Phones", await DialAsync(s, b.Phone, "1*0*9*1*00"));
    }

    [Fact]
    public async Task Ussd_PayNow_RequestsFromTheDiallingNumber_TheAmountDueNow()
    {
        var b = await BorrowerSetup.NewAsync(server, Phone(), locked: true);
        var s = Guid.NewGuid().ToString();
        await DialAsync(s, b.Phone, "");
        var pay = await DialAsync(s, b.Phone, "2");
        Assert.Contains("1. KES 100 (due now)", pay);
        Assert.Contains("2. KES 300 (all)", pay);
        var end = await DialAsync(s, b.Phone, "2*1");
        Assert.StartsWith("END Check your phone", end);
        var request = Assert.Single(server.PaymentRequests.Requests, r => r.PlanId == b.PlanId);
        Assert.Equal((b.Phone, 100_00L, "ussd"), (request.Phone, request.Amount, request.Channel));
        await server.PaymentRequests.PayAsync(request.Id, b.Lender.Admin);
        Assert.Equal("Unlocked", (await b.Lender.Admin.ReadAsync($"/v1/devices/{b.DeviceId}")).GetProperty("leaseMode").GetString());
    }

    [Fact]
    public async Task Ussd_UnlockCode_SentBySmsToTheRegisteredNumberOnly_NeverOnScreen()
    {
        var b = await BorrowerSetup.NewAsync(server, Phone());
        var s = Guid.NewGuid().ToString();
        await DialAsync(s, b.Phone, "");
        var end = await DialAsync(s, b.Phone, "3");
        Assert.StartsWith("END We sent an unlock code by SMS to " + b.Phone[..5] + "••••" + b.Phone[^3..], end);
        Assert.DoesNotMatch(@"\d{3} \d{3} \d{3}", end);
        var sms = Assert.Single(await SentAsync(b.Phone));
        Assert.Matches(@"Your unlock code is \d{3} \d{3} \d{3}\.", sms.Message);

        // Locked (past its grace): no code until it is paid.
        var locked = await BorrowerSetup.NewAsync(server, Phone(), locked: true);
        s = Guid.NewGuid().ToString();
        Assert.StartsWith("CON", await DialAsync(s, locked.Phone, "3")); // the first request of a session shows the menu, whatever it carries
        Assert.StartsWith("END Pay KES 100 first", await DialAsync(s, locked.Phone, "3*3"));
        Assert.Empty(await SentAsync(locked.Phone));
    }

    [Fact]
    public async Task Ussd_Dispute_IHavePaid_AndSomethingElse_OpenThroughTheDisputeDesk()
    {
        var b = await BorrowerSetup.NewAsync(server, Phone(), locked: true);
        var s = Guid.NewGuid().ToString();
        await DialAsync(s, b.Phone, "");
        Assert.StartsWith("CON 1. I have paid", await DialAsync(s, b.Phone, "4"));
        Assert.StartsWith("CON Enter the M-Pesa transaction code", await DialAsync(s, b.Phone, "4*1"));
        Assert.StartsWith("CON 1. I have paid", await DialAsync(s, b.Phone, "4*1*0"));
        Assert.StartsWith("END Thank you", await DialAsync(s, b.Phone, "4*1*0*1*QFX12ABC34"));
        var disputes = await b.Lender.Admin.ReadAsync($"/v1/disputes?planId={b.PlanId}");
        var d = Assert.Single(disputes.GetProperty("items").EnumerateArray(), x => x.GetProperty("planId").GetGuid() == b.PlanId);
        Assert.Equal(("QFX12ABC34", "borrower:ussd"), (d.Str("transactionReference"), d.Str("openedBy")));

        var s2 = Guid.NewGuid().ToString();
        await DialAsync(s2, b.Phone, "");
        Assert.StartsWith("END You already have an open dispute", await DialAsync(s2, b.Phone, "4*2*The shop kept my money"));
    }

    [Fact]
    public async Task Ussd_CallMeBack_ListedForStaff_Audited_Done()
    {
        var b = await BorrowerSetup.NewAsync(server, Phone());
        var s = Guid.NewGuid().ToString();
        await DialAsync(s, b.Phone, "");
        Assert.StartsWith("END We will call you back on +2547••••", await DialAsync(s, b.Phone, "5"));
        var list = await b.Lender.Admin.ReadAsync("/v1/callback-requests?open=true");
        var c = Assert.Single(list.GetProperty("items").EnumerateArray());
        Assert.Equal((b.Phone, "ussd"), (c.Str("phone"), c.Str("channel")));
        var done = await (await b.Lender.Admin.PostAsync($"/v1/callback-requests/{c.Id()}/done",
            System.Net.Http.Json.JsonContent.Create(new { note = "Called, will pay Friday" }))).Json(HttpStatusCode.OK);
        Assert.Equal("Called, will pay Friday", done.Str("note"));
        var audit = await b.Lender.Admin.ReadAsync("/v1/audit?limit=200");
        var actions = audit.EnumerateArray().Select(e => e.Str("action")).ToList();
        Assert.Contains("borrower.callback-requested", actions);
        Assert.Contains("borrower.callback-done", actions);
    }

    [Fact]
    public async Task Ussd_SeveralPlans_ChooseOne_UnknownNumber_Ends()
    {
        var b = await BorrowerSetup.NewAsync(server, Phone());
        var second = await BorrowerSetup.NewAsync(server, b.Phone, lender: b.Lender);
        var s = Guid.NewGuid().ToString();
        var choose = await DialAsync(s, b.Phone, "");
        Assert.StartsWith("CON Choose your phone:", choose);
        Assert.Contains(b.Reference, choose);
        var n = choose.Contains("1. " + second.Reference) ? "1" : "2";
        Assert.StartsWith("CON Jua Phones " + second.Reference, await DialAsync(s, b.Phone, n));
        Assert.StartsWith("CON Choose", await DialAsync(s, b.Phone, n + "*0"));
        Assert.StartsWith("CON Invalid choice.", await DialAsync(s, b.Phone, n + "*0*7"));

        Assert.StartsWith("END This number has no phone plan", await DialAsync(Guid.NewGuid().ToString(), "+254799000111", ""));
    }

    [Fact]
    public async Task Ussd_ExpiredSession_StartsOver_AndASessionOutlivesTheServerInstance()
    {
        var b = await BorrowerSetup.NewAsync(server, Phone());
        var s = Guid.NewGuid().ToString();
        await DialAsync(s, b.Phone, "");
        Assert.StartsWith("CON 1. I have paid", await DialAsync(s, b.Phone, "4"));
        // Another server instance on the same database carries the session on.
        await using (var other = new SecondInstance(server))
            Assert.StartsWith("CON Enter the M-Pesa transaction code", await DialAsync(s, b.Phone, "4*1", other.CreateClient()));
        server.Time.Advance(TimeSpan.FromSeconds(181));
        var restarted = await DialAsync(s, b.Phone, "4*1*0");
        Assert.StartsWith("CON Your session expired; starting again.", restarted);
        Assert.Contains("1. Balance", restarted);
        Assert.StartsWith("CON Due now", await DialAsync(s, b.Phone, "4*1*0*1"));
    }

    [Fact]
    public async Task Sms_Keywords_EachAnsweredOnce_StrangerToldNothing()
    {
        var b = await BorrowerSetup.NewAsync(server, Phone(), locked: true);
        async Task Text(string id, string from, string text)
        {
            var r = await server.Client().PostAsync(Incoming, new FormUrlEncodedContent(
                [new("from", from), new("to", "40404"), new("text", text), new("date", "2026-03-01 09:00:00"), new("id", id), new("linkId", "")]));
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }
        var bal = Guid.NewGuid().ToString();
        await Text(bal, b.Phone, "bal");
        await Text(bal, b.Phone, "bal"); // delivered twice
        var replies = await SentAsync(b.Phone);
        var reply = Assert.Single(replies);
        Assert.Contains("KES 100", reply.Message);
        Assert.Contains("KES 300", reply.Message);

        await Text(Guid.NewGuid().ToString(), b.Phone, "Salio");
        Assert.Contains("Kulipa sasa KES 100", (await SentAsync(b.Phone))[^1].Message);
        await Text(Guid.NewGuid().ToString(), b.Phone, "HELP");
        Assert.Contains("Send BAL", (await SentAsync(b.Phone))[^1].Message);
        await Text(Guid.NewGuid().ToString(), b.Phone, "code");
        Assert.Contains("Pay KES 100 first", (await SentAsync(b.Phone))[^1].Message); // locked: pay first
        await Text(Guid.NewGuid().ToString(), b.Phone, "PAID qfx99zz11");
        Assert.Contains("we are looking into it", (await SentAsync(b.Phone))[^1].Message);
        var disputes = await b.Lender.Admin.ReadAsync($"/v1/disputes?planId={b.PlanId}");
        Assert.Contains(disputes.GetProperty("items").EnumerateArray(), d => d.Str("openedBy") == "borrower:sms" && d.Str("transactionReference") == "qfx99zz11");

        var current = await BorrowerSetup.NewAsync(server, Phone());
        await Text(Guid.NewGuid().ToString(), current.Phone, "CODE");
        Assert.Matches(@"Your unlock code is \d{3} \d{3} \d{3}\.", Assert.Single(await SentAsync(current.Phone)).Message);
        // Staff never read the code in the outbox, and it is not kept once sent.
        var notices = await current.Lender.Admin.ReadAsync($"/v1/notices?planId={current.PlanId}");
        var codeSms = Assert.Single(notices.GetProperty("items").EnumerateArray(), n => n.Str("kind") == "code");
        Assert.Contains("Your unlock code is ••• ••• •••.", codeSms.Str("text"));
        Assert.DoesNotMatch("[0-9]{3} [0-9]{3}", await server.WithDbAsync(db => db.SmsMessages.Where(m => m.PlanId == current.PlanId && m.Kind == "code")
            .Select(m => m.Text).SingleAsync()));

        const string stranger = "+254799000222";
        await Text(Guid.NewGuid().ToString(), stranger, "BAL");
        var told = Assert.Single(server.AfricasTalking.Messages, m => m.To == stranger);
        Assert.Contains("no phone plan", told.Message);
        Assert.DoesNotContain("Jua", told.Message);
    }

    [Fact]
    public async Task Callbacks_Hostile_ClearRefusals_NeverA500()
    {
        var client = server.Client();
        foreach (var path in new[] { Ussd, Incoming })
        {
            var bare = path[..path.IndexOf('?')];
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsync(bare, new FormUrlEncodedContent([]))).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsync(bare + "?token=wrong", new FormUrlEncodedContent([]))).StatusCode);
            HttpContent[] bodies =
            [
                new StringContent(""),
                new StringContent("{\"text\":\"1\"}", System.Text.Encoding.UTF8, "application/json"),
                new FormUrlEncodedContent([]),
                new FormUrlEncodedContent([new("sessionId", "a\0b"), new("phoneNumber", "+254\0"), new("from", "x"), new("id", "\0"), new("text", "\0")]),
                new FormUrlEncodedContent([new("sessionId", new string('s', 100_000)), new("phoneNumber", "+254712345678"), new("from", "+254712345678"),
                    new("id", "1"), new("text", new string('1', 100_000))]),
                new FormUrlEncodedContent([new("sessionId", "s"), new("sessionId", "t"), new("phoneNumber", "not a number"), new("from", "12"), new("id", "1")]),
                new StringContent("a=%%%&&==", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"),
            ];
            foreach (var body in bodies)
            {
                var r = await client.PostAsync(path, body);
                Assert.True((int)r.StatusCode is >= 400 and < 500, $"{path}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
            }
        }
    }

    /// <summary>A second server instance on the first one's database (and clock).</summary>
    private sealed class SecondInstance(SmsServer first) : Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder) => first.ConfigureLike(builder);
    }
}

public sealed class SqliteShortCodeTests(SqliteSmsServer server) : ShortCodeTests(server), IClassFixture<SqliteSmsServer>;
public sealed class PostgresShortCodeTests(PostgresSmsServer server) : ShortCodeTests(server), IClassFixture<PostgresSmsServer>;
