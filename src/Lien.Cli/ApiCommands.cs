using System.CommandLine;
using System.Globalization;
using Lien.Cli.Client;
using Lien.Protocol;

namespace Lien.Cli;

/// <summary>Commands that call a Lien server's lender API through <see cref="LienClient"/>.</summary>
internal static class ApiCommands
{
    private static readonly Option<string> Server = new("--server")
    {
        Description = "Server URL (or LIEN_SERVER)",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("LIEN_SERVER") ?? "http://localhost:5080",
    };

    private static readonly Option<string?> Key = new("--key")
    {
        Description = "API key (or LIEN_API_KEY)",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("LIEN_API_KEY"),
    };

    public static IEnumerable<Command> Create() => [Lender(), Keys(), Devices(), Plans(), Payments(), Audit()];

    /// <summary>Options every API command takes; added to the root so they may stand anywhere on the line.</summary>
    public static IEnumerable<Option> GlobalOptions => [Server, Key];

    private static Command Lender()
    {
        var show = new Command("show", "Show the lender of the API key: settings and published trust keys");
        Run(show, async (c, r, o, ct) =>
        {
            var l = await c.GetLenderAsync(ct);
            await o.WriteLineAsync($"{l.Settings.Name} ({l.Id})");
            await o.WriteLineAsync($"  currency {l.Settings.Currency}, time zone {l.Settings.TimeZone}, policy {l.Settings.PolicyProfile}, offline allowance {l.Settings.OfflineAllowanceHours} h");
            await o.WriteLineAsync($"  support {l.Settings.SupportPhone}  short code {l.Settings.ShortCode}");
            await o.WriteLineAsync($"  enrollment {l.Settings.EnrollmentPolicy}");
            foreach (var w in l.Warnings ?? []) await o.WriteLineAsync($"  WARNING: {w}");
            foreach (var k in l.TrustKeys) await o.WriteLineAsync($"  trust key {k.Kid}");
        });
        return new Command("lender", "The lender's settings") { show };
    }

    private static Command Keys()
    {
        var rotate = new Command("rotate", "Make a new lease-signing key; the old one is retired (still trusted until revoked)");
        Run(rotate, async (c, r, o, ct) => await WriteKeysAsync(await c.RotateSigningKeyAsync(ct), o));
        var kid = new Argument<string>("kid") { Description = "The retired key's id (lk…)" };
        var revoke = new Command("revoke", "Revoke a retired lease-signing key: devices stop trusting it, and leases it signed are re-signed") { kid };
        Run(revoke, async (c, r, o, ct) => await WriteKeysAsync(await c.RevokeSigningKeyAsync(r.GetValue(kid)!, ct), o));
        return new Command("keys", "The lender's lease-signing keys") { rotate, revoke };
    }

    private static async Task WriteKeysAsync(Client.Lender l, TextWriter o)
    {
        foreach (var k in l.TrustKeys) await o.WriteLineAsync($"trust key {k.Kid}  thumbprint {k.Thumbprint()}");
    }

    private static Command Devices()
    {
        var search = new Option<string?>("--search") { Description = "IMEI prefix or serial" };
        var status = new Option<string?>("--status") { Description = "locked, unlocked, released or enrolled" };
        var limit = new Option<int?>("--limit") { Description = "Page size (1-500)" };
        var after = new Option<string?>("--after") { Description = "Cursor from the previous page" };
        var list = new Command("list", "List devices") { search, status, limit, after };
        Run(list, async (c, r, o, ct) =>
        {
            var page = await c.ListDevicesAsync(r.GetValue(search), r.GetValue(status), r.GetValue(limit), r.GetValue(after), ct);
            await o.WriteLineAsync($"{"ID",-36}  {"IMEI",-15}  {"MODE",-8}  {"SEQ",4}  MODEL");
            foreach (var d in page.Items)
                await o.WriteLineAsync($"{d.Id,-36}  {d.Imei,-15}  {d.LeaseMode,-8}  {d.LeaseSeq,4}  {d.Make} {d.Model}");
            if (page.Next is not null) await o.WriteLineAsync($"more: --after {page.Next}");
        });

        var id = new Argument<Guid>("id") { Description = "Device id" };
        var show = new Command("show", "Show one device and its current lease") { id };
        Run(show, async (c, r, o, ct) =>
        {
            var d = await c.GetDeviceAsync(r.GetValue(id), ct);
            var lease = await c.GetLeaseAsync(d.Id, ct);
            await o.WriteLineAsync($"{d.Id}  IMEI {d.Imei}{(d.Imei2 is null ? "" : " / " + d.Imei2)}  {d.Make} {d.Model}  serial {d.Serial}");
            await o.WriteLineAsync($"  enrolled {d.EnrolledAt?.ToString("u", CultureInfo.InvariantCulture) ?? "no"}{(d.EnrolledWith is null ? "" : $" ({d.EnrolledWith})")}, last seen {d.LastSeenAt?.ToString("u", CultureInfo.InvariantCulture) ?? "never"}, plan {d.ActivePlanId?.ToString() ?? "none"}");
            await o.WriteLineAsync($"  lease #{lease.Seq} {lease.Mode}{(lease.UnlockedUntil is { } u ? " until " + u.ToString("u", CultureInfo.InvariantCulture) : "")} ({(lease.Applied ? "applied" : "not yet applied")})");
            await o.WriteLineAsync($"  reason: {lease.Reason}");
            if (d.WrongCodes is { Count: > 0, ReportedAt: var at })
                await o.WriteLineAsync($"  wrong codes typed since enrollment: {d.WrongCodes.Count} (reported {at?.ToString("u", CultureInfo.InvariantCulture)})");
            if (lease.Screen.AmountDueMinor > 0) await o.WriteLineAsync($"  amount due: {new Money(lease.Screen.AmountDueMinor, lease.Screen.Currency)}, pay reference {lease.Screen.PayReference}");
        });

        var imei = new Option<string>("--imei") { Description = "15-digit IMEI", Required = true };
        var imei2 = new Option<string?>("--imei2") { Description = "Second IMEI (dual SIM)" };
        var serial = new Option<string?>("--serial");
        var make = new Option<string?>("--make");
        var model = new Option<string?>("--model");
        var register = new Command("register", "Register a device by IMEI") { imei, imei2, serial, make, model };
        Run(register, async (c, r, o, ct) =>
        {
            var d = await c.RegisterDeviceAsync(new RegisterDevice(r.GetValue(imei)!, r.GetValue(imei2), r.GetValue(serial), r.GetValue(make), r.GetValue(model)), ct);
            await o.WriteLineAsync($"registered {d.Id} (IMEI {d.Imei}), lease #{d.LeaseSeq} {d.LeaseMode}");
        });

        var file = new Argument<FileInfo>("file") { Description = "CSV with a header: imei, imei2, serial, make, model" };
        var import = new Command("import", "Register up to 10,000 devices from a CSV file") { file };
        Run(import, async (c, r, o, ct) =>
        {
            var f = r.GetValue(file)!;
            if (!f.Exists) throw new UserError($"No such file: {f.FullName}");
            await using var stream = f.OpenRead();
            var result = await c.ImportDevicesAsync(stream, ct);
            foreach (var e in result.Errors) await o.WriteLineAsync($"line {e.Line}: {e.Reason}");
            await o.WriteLineAsync($"{result.Registered} registered, {result.Refused} refused");
        });
        var tokenFor = new Argument<Guid>("id") { Description = "Device id" };
        var svg = new Option<FileInfo?>("--svg") { Description = "Also write the QR code as an SVG file (to print at the point of sale)" };
        var enrollmentToken = new Command("enrollment-token", "Issue a one-time enrollment token and show its provisioning QR code (earlier tokens stop working)") { tokenFor, svg };
        Run(enrollmentToken, async (c, r, o, ct) =>
        {
            var t = await c.IssueEnrollmentTokenAsync(r.GetValue(tokenFor), ct);
            await o.WriteLineAsync($"enrollment token for {t.DeviceId}: {t.Token} (one use, until {t.ExpiresAt.ToString("u", CultureInfo.InvariantCulture)})");
            await o.WriteLineAsync("scan during the phone's setup (QR provisioning):");
            using (var qr = QRCoder.QRCodeGenerator.GenerateQrCode(t.Provisioning, QRCoder.QRCodeGenerator.ECCLevel.M))
                await o.WriteLineAsync(new QRCoder.AsciiQRCode(qr).GetGraphicSmall());
            if (r.GetValue(svg) is { } f)
            {
                await File.WriteAllTextAsync(f.FullName, t.QrSvg, ct);
                await o.WriteLineAsync($"QR code written to {f.FullName}");
            }
        });
        return new Command("devices", "Register and inspect devices") { list, show, register, import, enrollmentToken };
    }

    private static Command Plans()
    {
        var device = new Option<Guid>("--device") { Description = "Device id", Required = true };
        var price = new Option<long>("--price") { Description = "Price in minor units", Required = true };
        var down = new Option<long>("--down-payment") { Description = "Down payment in minor units" };
        var count = new Option<int>("--installments") { Description = "Number of installments", Required = true };
        var frequency = new Option<Frequency>("--frequency") { Description = "Monthly, Weekly or Daily", DefaultValueFactory = _ => Frequency.Monthly };
        var first = new Option<DateOnly>("--first-due") { Description = "First due date, ISO 8601: yyyy-MM-dd", Required = true, CustomParser = IsoDate };
        var backdated = new Option<bool>("--backdated") { Description = "The first installment is already past due, on purpose (a loan moved from another system)" };
        var currency = new Option<string?>("--currency") { Description = "ISO 4217 code; the lender's by default" };
        var borrower = new Option<string?>("--borrower") { Description = "Your reference for the borrower" };
        var create = new Command("create", "Create a plan with a generated schedule") { device, price, down, count, frequency, first, backdated, currency, borrower };
        Run(create, async (c, r, o, ct) =>
        {
            var p = await c.CreatePlanAsync(new CreatePlan(r.GetValue(device), r.GetValue(price), r.GetValue(down), r.GetValue(currency), r.GetValue(borrower),
                Generate: new GenerateSchedule(r.GetValue(count), r.GetValue(frequency), r.GetValue(first)), Backdated: r.GetValue(backdated) ? true : null), ct);
            await WritePlan(o, p);
        });

        var id = new Argument<Guid>("id") { Description = "Plan id" };
        var show = new Command("show", "Show a plan, its schedule and standing") { id };
        Run(show, async (c, r, o, ct) => await WritePlan(o, await c.GetPlanAsync(r.GetValue(id), ct)));

        var reason = new Option<string>("--reason") { Description = "Why (kept in the audit trail)", Required = true };
        var cancelId = new Argument<Guid>("id") { Description = "Plan id" };
        var cancel = new Command("cancel", "Cancel an active plan") { cancelId, reason };
        Run(cancel, async (c, r, o, ct) => await WritePlan(o, await c.CancelPlanAsync(r.GetValue(cancelId), r.GetValue(reason)!, ct)));
        return new Command("plans", "Installment plans") { create, show, cancel };
    }

    private static Command Payments()
    {
        var plan = new Option<string>("--plan") { Description = "Plan id or pay reference (LN-…)", Required = true };
        var amount = new Option<long>("--amount") { Description = "Amount in minor units", Required = true };
        var currency = new Option<string>("--currency") { Description = "ISO 4217 code", Required = true };
        var provider = new Option<string>("--provider") { Description = "e.g. mpesa", Required = true };
        var tx = new Option<string>("--tx") { Description = "The provider's transaction id", Required = true };
        var post = new Command("post", "Record a payment (once per provider transaction)") { plan, amount, currency, provider, tx };
        Run(post, async (c, r, o, ct) =>
        {
            var target = r.GetValue(plan)!;
            var payment = new PostPayment(r.GetValue(amount), r.GetValue(currency)!, r.GetValue(provider)!, r.GetValue(tx)!,
                Guid.TryParse(target, out var g) ? g : null, Guid.TryParse(target, out _) ? null : target);
            var p = await c.PostPaymentAsync(payment, ct);
            await o.WriteLineAsync($"payment {p.Id}: {new Money(p.Amount, p.Currency)}; device lease #{p.LeaseSeq} {p.LeaseMode}");
        });

        var id = new Argument<Guid>("id") { Description = "Payment id" };
        var reason = new Option<string>("--reason") { Description = "Why (kept in the audit trail)", Required = true };
        var reverse = new Command("reverse", "Reverse a payment with a new ledger entry") { id, reason };
        Run(reverse, async (c, r, o, ct) =>
        {
            var p = await c.ReversePaymentAsync(r.GetValue(id), r.GetValue(reason)!, ct);
            await o.WriteLineAsync($"reversal {p.Id}: {new Money(p.Amount, p.Currency)}; device lease #{p.LeaseSeq} {p.LeaseMode}");
        });
        return new Command("payments", "The payment ledger") { post, reverse };
    }

    private static Command Audit()
    {
        var checkpointFile = new Option<FileInfo?>("--checkpoint")
        {
            Description = "A checkpoint saved earlier with 'audit checkpoint --out': also check that the chain still holds what it covers",
        };
        var verify = new Command("verify", "Walk the lender's audit chain and report the first event that does not verify") { checkpointFile };
        Run(verify, async (c, r, o, ct) =>
        {
            var check = await c.VerifyAuditAsync(ct);
            await o.WriteLineAsync(check.Intact
                ? $"intact: {check.Checked} events{(check.Checkpoint is { } cp ? $", held against the signed checkpoint at event {cp.Seq} ({cp.At.ToString("u", CultureInfo.InvariantCulture)})" : "")}"
                : $"BROKEN at event {check.BrokenAt} ({check.Checked} verified before it): {check.Problem}");
            if (r.GetValue(checkpointFile) is { } file) await HoldAgainstSavedCheckpointAsync(c, file, o, ct);
            if (!check.Intact) throw new UserError("The audit chain does not verify.");
        });

        var output = new Option<FileInfo?>("--out") { Description = "Write the signed checkpoint (a JWS) to this file, to keep outside Lien" };
        var checkpoint = new Command("checkpoint", "Sign the audit chain head now and print (or save) the checkpoint") { output };
        Run(checkpoint, async (c, r, o, ct) =>
        {
            var cp = await c.CheckpointAuditAsync(ct);
            await o.WriteLineAsync($"checkpoint at event {cp.Seq} ({cp.At.ToString("u", CultureInfo.InvariantCulture)}), head {cp.Hash}");
            if (r.GetValue(output) is { } file)
            {
                await File.WriteAllTextAsync(file.FullName, cp.Jws + "\n", ct);
                await o.WriteLineAsync($"saved to {file.FullName}");
            }
            else await o.WriteLineAsync(cp.Jws);
        });
        return new Command("audit", "The audit trail") { verify, checkpoint };
    }

    // A checkpoint kept outside Lien is checked with the lender's published keys, then against the chain as it is now:
    // the event it names must still be there with the same hash (deleting or changing covered events cannot hide).
    private static async Task HoldAgainstSavedCheckpointAsync(LienClient c, FileInfo file, TextWriter o, CancellationToken ct)
    {
        if (!file.Exists) throw new UserError($"No checkpoint file {file.FullName}.");
        var jws = (await File.ReadAllTextAsync(file.FullName, ct)).Trim();
        var lender = await c.GetLenderAsync(ct);
        if (AuditCheckpointClaims.Verify(jws, lender.TrustKeys) is not { } claims)
            throw new UserError("The saved checkpoint is not signed by this lender's keys (or is not a checkpoint).");
        var (seq, hash) = (claims.Seq, claims.Hash);
        if (claims.LenderId != lender.Id) throw new UserError("The saved checkpoint is another lender's.");
        var events = await c.ListAuditEventsAsync(seq - 1, 1, ct);
        if (events is not [var e, ..] || e.Seq != seq)
            throw new UserError($"BROKEN: the saved checkpoint covers events up to {seq}, but the chain no longer holds event {seq}: events were deleted.");
        if (e.Hash != hash)
            throw new UserError($"BROKEN: event {seq} differs from the saved checkpoint: the chain was changed or rebuilt.");
        await o.WriteLineAsync($"the saved checkpoint at event {seq} holds: the chain still has that event, unchanged");
    }

    // Dates are ISO 8601 only: 01/11/2026 is 1 November to some and 11 January to others, so it is refused, not guessed.
    private static DateOnly IsoDate(System.CommandLine.Parsing.ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)) return date;
        result.AddError($"{(result.Parent as System.CommandLine.Parsing.OptionResult)?.Option.Name ?? "The date"} must be an ISO 8601 date, yyyy-MM-dd (such as 2026-11-01); '{text}' is not.");
        return default;
    }

    private static async Task WritePlan(TextWriter o, Plan p)
    {
        await o.WriteLineAsync($"plan {p.Id}  ref {p.Reference}  device {p.DeviceId}{(p.Backdated ? "  (backdated)" : "")}");
        await o.WriteLineAsync($"  {p.Lifecycle} / {p.Status}: paid {new Money(p.Paid, p.Currency)}, outstanding {new Money(p.Outstanding, p.Currency)}, overdue {new Money(p.AmountOverdue, p.Currency)} ({p.DaysPastDue} days)");
        if (p.RefundDue > 0) await o.WriteLineAsync($"  paid beyond the plan: {new Money(p.RefundDue, p.Currency)}, flagged for refund to the borrower");
        if (p.SettlementHoldUntil is { } hold) await o.WriteLineAsync($"  settlement hold until {hold.ToString("u", CultureInfo.InvariantCulture)}: the device is released then");
        foreach (var i in p.Installments)
            await o.WriteLineAsync($"  #{i.Number,-3} due {i.DueDate:yyyy-MM-dd}  {new Money(i.Amount, p.Currency),16}  paid {new Money(i.Paid, p.Currency)}");
    }

    /// <summary>Wires an action that talks to the server, turning API problems and network failures into plain messages.</summary>
    private static void Run(Command command, Func<LienClient, ParseResult, TextWriter, CancellationToken, Task> action) =>
        command.SetAction(async (r, ct) =>
        {
            var output = r.InvocationConfiguration.Output;
            var error = r.InvocationConfiguration.Error;
            if (!Uri.TryCreate(r.GetValue(Server), UriKind.Absolute, out var server))
            {
                await error.WriteLineAsync($"error: --server must be an absolute URL such as http://localhost:5080");
                return 2;
            }
            using var http = new HttpClient { BaseAddress = server, Timeout = TimeSpan.FromSeconds(100) };
            var client = new LienClient(http, r.GetValue(Key));
            try
            {
                await action(client, r, output, ct);
                return 0;
            }
            catch (LienApiException e)
            {
                await error.WriteLineAsync($"error: {e.Title}{(e.Detail is null ? "" : ": " + e.Detail)}");
                foreach (var (field, messages) in e.Errors)
                    foreach (var m in messages) await error.WriteLineAsync($"  {field}: {m}");
                if (e.Status == 401) await error.WriteLineAsync("  (pass an API key with --key or LIEN_API_KEY)");
                return 1;
            }
            catch (HttpRequestException e)
            {
                await error.WriteLineAsync($"error: cannot reach {server}: {e.Message}");
                return 1;
            }
            catch (UserError e)
            {
                await error.WriteLineAsync($"error: {e.Message}");
                return 1;
            }
        });
}

/// <summary>A plain message for the person at the terminal; no stack trace.</summary>
internal sealed class UserError(string message) : Exception(message);
