using System.Globalization;
using System.Text;
using Lien.Protocol;
using Lien.Server.AgentApi;
using Lien.Server.Api;
using Lien.Server.Disputes;
using Lien.Server.Payments;
using Lien.Server.Plans;
using Microsoft.AspNetCore.Antiforgery;

namespace Lien.Server.Borrower;

/// <summary>
/// The borrower's pay page at the plan's pay link (<c>/p/{token}</c>, the lock screen's QR code): what is owed now and why,
/// the schedule, how to pay, "pay now" (a request to pay), the payment's progress, an unlock code and the dispute form.
/// Server-rendered, readable and usable with no script (a small script file only spares the refreshes), English and Swahili,
/// under a strict Content-Security-Policy with no referrer (the link is a secret), rate-limited per address.
/// </summary>
internal static class PayPageEndpoints
{
    private const string ScriptPath = "/pay-page.js";

    private const string Script = """
        // Follows a request to pay: asks for its stage every 2 s and reloads the page once it has moved on (no inline script).
        (function () {
          var el = document.querySelector('[data-poll]');
          if (!el) return;
          var url = el.getAttribute('data-poll'), stage = el.getAttribute('data-stage');
          function poll() {
            fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store' })
              .then(function (r) { return r.json(); })
              .then(function (s) { if (s.done || s.stage !== stage) location.reload(); else setTimeout(poll, 2000); })
              .catch(function () { setTimeout(poll, 5000); });
          }
          setTimeout(poll, 2000);
        })();
        """;

    /// <summary>How long a request's page keeps refreshing while the phone has not applied its unlock.</summary>
    private static readonly TimeSpan FollowFor = TimeSpan.FromMinutes(10);

    public static IServiceCollection AddBorrower(this IServiceCollection services)
    {
        services.AddScoped<BorrowerDesk>();
        services.AddScoped<SmsKeywords>();
        services.AddFormProtection();
        return services;
    }

    public static IEndpointRouteBuilder MapPayPage(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("").AllowAnonymous().ExcludeFromDescription().RateLimitedByAddress(RateLimitPolicy.PayPagePerAddress).DisableAntiforgery();
        g.MapGet("/p/{token}", Page);
        g.MapPost("/p/{token}/pay", Pay);
        g.MapGet("/p/{token}/requests/{requestId}", Progress);
        g.MapGet("/p/{token}/requests/{requestId}/state", State);
        g.MapPost("/p/{token}/code", Code);
        g.MapPost("/p/{token}/dispute", Dispute);
        app.MapGet(ScriptPath, (HttpResponse response) =>
        {
            response.Headers.CacheControl = "public, max-age=86400";
            response.Headers.XContentTypeOptions = "nosniff";
            return TypedResults.Text(Script, "text/javascript; charset=utf-8");
        }).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> Page(string token, string? lang, HttpContext http, BorrowerDesk desk, IAntiforgery antiforgery, CancellationToken ct)
    {
        Secure(http.Response);
        if (await desk.ByTokenAsync(token, ct) is not { } p) return NotFound(lang);
        return Render(p, Language(p, lang, http), http, antiforgery);
    }

    private static async Task<IResult> Pay(string token, HttpContext http, BorrowerDesk desk, IAntiforgery antiforgery, CancellationToken ct)
    {
        Secure(http.Response);
        var (p, form, refusal) = await PostedAsync(token, http, desk, antiforgery, ct);
        if (p is null) return refusal!;
        var language = Language(p, form!.Field("lang"), http);
        var w = BorrowerWords.For(language);
        var phone = Phones.Normalize(form!.Field("phone"));
        var amount = Amount(form!.Field("amount"), p.Plan.Currency);
        if (phone is null) return Render(p, language, http, antiforgery, alert: w.BadPhone, status: 400);
        if (amount is null) return Render(p, language, http, antiforgery, alert: w.BadAmount, status: 400);
        var answer = await desk.RequestPaymentAsync(p, phone, amount.Value, "pay-page", language, ct);
        return answer is { Done: true, RequestId: { } id }
            ? TypedResults.Redirect($"/p/{token}/requests/{id}?lang={language}", permanent: false, preserveMethod: false)
            : Render(p, language, http, antiforgery, alert: answer.Message, status: 400);
    }

    private static async Task<IResult> Progress(string token, string requestId, string? lang, HttpContext http, BorrowerDesk desk, IAntiforgery antiforgery,
        TimeProvider time, CancellationToken ct)
    {
        Secure(http.Response);
        if (await desk.ByTokenAsync(token, ct) is not { } p || !Guid.TryParse(requestId, out var id)
            || await desk.RequestStateAsync(p, id, ct) is not { } followed) return NotFound(lang);
        var language = Language(p, lang, http);
        var w = BorrowerWords.For(language);
        var (request, state) = followed;
        var done = Done(p, request, state, time);
        var html = new StringBuilder();
        html.Append("<p>").Append(HtmlPage.Encode(p.Money(request.Amount))).Append(" · ").Append(HtmlPage.Encode(request.PhoneMasked)).Append("</p>");
        html.Append("<p role=\"status\"");
        if (!done) html.Append(" data-poll=\"/p/").Append(token).Append("/requests/").Append(id).Append("/state\" data-stage=\"").Append(Stage(p, state)).Append('"');
        html.Append('>').Append(HtmlPage.Encode(state?.Status switch
        {
            PaymentRequestStatus.Paid => w.PaidDone + " " + (Applied(p) ? w.Unlocked : w.NotYetUnlocked),
            PaymentRequestStatus.Pending or null => string.Format(CultureInfo.InvariantCulture, w.PinPrompt, request.PhoneMasked) + " " + w.Waiting,
            _ => string.Format(CultureInfo.InvariantCulture, w.Failed, state.Message ?? state.Status.ToString()),
        })).Append("</p>");
        if (state?.Receipt is { } receipt) html.Append("<p>M-Pesa: ").Append(HtmlPage.Encode(receipt)).Append("</p>");
        if (state?.Status == PaymentRequestStatus.Paid) CodeForm(html, token, language, w, Check(http, antiforgery));
        html.Append("<p><a href=\"/p/").Append(token).Append("?lang=").Append(language).Append("\">").Append(HtmlPage.Encode(w.PayTitle)).Append("</a></p>");
        var head = done ? "" : "<noscript><meta http-equiv=\"refresh\" content=\"5\"></noscript><script src=\"" + ScriptPath + "\" defer></script>";
        return HtmlPage.Render(w.PayNow, html.ToString(), language: language, headHtml: head);
    }

    private static async Task<IResult> State(string token, string requestId, HttpContext http, BorrowerDesk desk, TimeProvider time, CancellationToken ct)
    {
        Secure(http.Response);
        if (await desk.ByTokenAsync(token, ct) is not { } p || !Guid.TryParse(requestId, out var id)
            || await desk.RequestStateAsync(p, id, ct) is not { } followed)
            return TypedResults.Problem(statusCode: 404, title: "Not found", detail: "No such request.");
        return TypedResults.Json(new { done = Done(p, followed.Request, followed.State, time), stage = Stage(p, followed.State) });
    }

    private static async Task<IResult> Code(string token, HttpContext http, BorrowerDesk desk, IAntiforgery antiforgery, CancellationToken ct)
    {
        Secure(http.Response);
        var (p, form, refusal) = await PostedAsync(token, http, desk, antiforgery, ct);
        if (p is null) return refusal!;
        var language = Language(p, form!.Field("lang"), http);
        var answer = await desk.IssueCodeAsync(p, "pay-page", language, ct);
        if (!answer.Done) return Render(p, language, http, antiforgery, alert: answer.Message, status: 409);
        var w = BorrowerWords.For(language);
        var html = new StringBuilder("<section aria-labelledby=\"code-title\"><h2 id=\"code-title\">").Append(HtmlPage.Encode(w.CodeTitle)).Append("</h2>")
            .Append("<p class=\"code\">").Append(HtmlPage.Encode(string.Join(' ', answer.Code!.Chunk(3).Select(c => new string(c))))).Append("</p>")
            .Append("<p role=\"status\">").Append(HtmlPage.Encode(answer.Message)).Append("</p></section>")
            .Append("<p><a href=\"/p/").Append(token).Append("?lang=").Append(language).Append("\">").Append(HtmlPage.Encode(w.PayTitle)).Append("</a></p>");
        return HtmlPage.Render(w.CodeTitle, html.ToString(), language: language);
    }

    private static async Task<IResult> Dispute(string token, HttpContext http, BorrowerDesk desk, IAntiforgery antiforgery, CancellationToken ct)
    {
        Secure(http.Response);
        var (p, form, refusal) = await PostedAsync(token, http, desk, antiforgery, ct);
        if (p is null) return refusal!;
        var language = Language(p, form!.Field("lang"), http);
        DisputeKind? kind = form!.Field("kind") switch { "paid" => DisputeKind.Paid, "other" => DisputeKind.Other, _ => null };
        var reference = kind == DisputeKind.Paid ? form!.Field("reference")?.Trim() : null;
        var text = kind == DisputeKind.Other ? form!.Field("text")?.Trim() : null;
        if (kind is null) return Render(p, language, http, antiforgery, alert: BorrowerWords.For(language).TryAgain, status: 400);
        var answer = await desk.DisputeAsync(p, new DisputeRequest(kind, reference, text), "pay-page", language, ct);
        return Render(p, language, http, antiforgery, alert: answer.Message, status: answer.Done ? 200 : 409, done: answer.Done);
    }

    // A POST's plan, form and antiforgery check; or the page that refuses it (never a 500, whatever was sent).
    private static async Task<(BorrowerPlan?, IFormCollection?, IResult?)> PostedAsync(string token, HttpContext http, BorrowerDesk desk,
        IAntiforgery antiforgery, CancellationToken ct)
    {
        if (await desk.ByTokenAsync(token, ct) is not { } p) return (null, null, NotFound(null));
        var w = BorrowerWords.For(Language(p, null, http));
        if (!http.Request.HasFormContentType) return (null, null, Render(p, w.Lang, http, antiforgery, alert: w.TryAgain, status: 415));
        IFormCollection form;
        try
        {
            form = await http.Request.ReadFormAsync(ct);
            if (!await antiforgery.IsRequestValidAsync(http)) return (null, null, Render(p, w.Lang, http, antiforgery, alert: w.TryAgain, status: 400));
        }
        catch (Exception e) when (e is InvalidDataException or BadHttpRequestException or AntiforgeryValidationException)
        {
            return (null, null, Render(p, w.Lang, http, antiforgery, alert: w.TryAgain, status: 400));
        }
        return (p, form, null);
    }

    private static IResult Render(BorrowerPlan p, string language, HttpContext http, IAntiforgery antiforgery, string? alert = null, int status = 200,
        bool done = false)
    {
        var w = BorrowerWords.For(language);
        var (plan, lender, state) = (p.Plan, p.Lender, p.State);
        var token = plan.PayToken!;
        var check = Check(http, antiforgery);
        var html = new StringBuilder("<header>");
        if (lender.LogoUrl is { } logo)
            html.Append("<img src=\"").Append(HtmlPage.Encode(logo)).Append("\" alt=\"").Append(HtmlPage.Encode(lender.Name)).Append("\" referrerpolicy=\"no-referrer\">");
        html.Append("<p><strong>").Append(HtmlPage.Encode(lender.Name)).Append("</strong> · ").Append(HtmlPage.Encode(plan.Reference)).Append("</p></header>");
        if (alert is not null) html.Append("<p class=\"").Append(done ? "released" : "problem").Append("\" role=\"alert\">").Append(HtmlPage.Encode(alert)).Append("</p>");

        html.Append("<section aria-labelledby=\"owed\"><h2 id=\"owed\">").Append(HtmlPage.Encode(plan.Lifecycle == PlanLifecycle.PaidOff ? w.PaidOffTitle : w.OwedNow)).Append("</h2>");
        if (plan.Lifecycle == PlanLifecycle.Active)
        {
            html.Append("<p class=\"due\">").Append(HtmlPage.Encode(state.AmountOverdue > 0 ? p.Money(state.AmountOverdue) : w.NothingDueNow)).Append("</p>");
            if (state.AmountOverdue > 0)
            {
                var late = state.Allocation.Installments.Where(i => i.Outstanding > 0 && i.Installment.DueDate < NextOrMax(state)).Select(i => i.Installment.Number);
                html.Append("<p>").Append(HtmlPage.Encode(w.Why)).Append(": ").Append(HtmlPage.Encode(w.Installment)).Append(' ')
                    .Append(HtmlPage.Encode(string.Join(", ", late))).Append(" · ")
                    .Append(HtmlPage.Encode(string.Format(CultureInfo.InvariantCulture, w.DaysLate, state.DaysPastDue))).Append("</p>");
            }
            html.Append("<dl>");
            if (state.NextDueDate is { } next)
                html.Append("<dt>").Append(HtmlPage.Encode(w.NextDue)).Append("</dt><dd>").Append(HtmlPage.Encode(p.Money(state.NextDueAmount))).Append(" · ")
                    .Append(next.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Append("</dd>");
            html.Append("<dt>").Append(HtmlPage.Encode(w.Balance)).Append("</dt><dd>").Append(HtmlPage.Encode(p.Money(state.Outstanding))).Append("</dd></dl>");
        }
        html.Append("</section>");

        if (plan.Lifecycle == PlanLifecycle.Active && state.Outstanding > 0)
        {
            var exponent = Currencies.Exponent(plan.Currency) ?? 2;
            var amountNow = (p.AmountNow / (decimal)Math.Pow(10, exponent)).ToString("0." + new string('#', exponent), CultureInfo.InvariantCulture);
            html.Append("<section aria-labelledby=\"pay\"><h2 id=\"pay\">").Append(HtmlPage.Encode(w.PayNow)).Append("</h2>")
                .Append("<form method=\"post\" action=\"/p/").Append(token).Append("/pay\">").Append(check).Append(Lang(language))
                .Append("<label for=\"phone\">").Append(HtmlPage.Encode(w.PhoneLabel)).Append("</label><input id=\"phone\" name=\"phone\" type=\"tel\" ")
                .Append("inputmode=\"tel\" autocomplete=\"tel\" required maxlength=\"16\" placeholder=\"+2547…\">")
                .Append("<label for=\"amount\">").Append(HtmlPage.Encode(string.Format(CultureInfo.InvariantCulture, w.AmountLabel, plan.Currency))).Append("</label>")
                .Append("<input id=\"amount\" name=\"amount\" inputmode=\"decimal\" required maxlength=\"16\" value=\"").Append(amountNow).Append("\"> ")
                .Append("<button type=\"submit\">").Append(HtmlPage.Encode(w.PayButton)).Append("</button></form>");
            html.Append("<h3>").Append(HtmlPage.Encode(w.HowToPay)).Append("</h3><p>")
                .Append(HtmlPage.Encode(string.Format(CultureInfo.InvariantCulture, w.PaybillSteps, lender.Paybill ?? "-", plan.Reference))).Append("</p></section>");
        }

        html.Append("<section aria-labelledby=\"schedule\"><h2 id=\"schedule\">").Append(HtmlPage.Encode(w.Schedule)).Append("</h2><table><thead><tr><th scope=\"col\">#</th><th scope=\"col\">")
            .Append(HtmlPage.Encode(w.DueOn)).Append("</th><th scope=\"col\">").Append(HtmlPage.Encode(w.Amount)).Append("</th><th scope=\"col\">")
            .Append(HtmlPage.Encode(w.Paid)).Append("</th></tr></thead><tbody>");
        foreach (var i in state.Allocation.Installments)
            html.Append("<tr><td>").Append(i.Installment.Number).Append("</td><td>").Append(i.Installment.DueDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))
                .Append("</td><td>").Append(HtmlPage.Encode(p.Money(i.Installment.Amount))).Append("</td><td>")
                .Append(HtmlPage.Encode(p.Money(i.Installment.Amount - i.Outstanding))).Append("</td></tr>");
        html.Append("</tbody></table></section>");

        if (plan.Lifecycle == PlanLifecycle.Active)
        {
            CodeForm(html, token, language, w, check);
            html.Append("<section aria-labelledby=\"dispute\"><h2 id=\"dispute\">").Append(HtmlPage.Encode(w.DisputeTitle)).Append("</h2><p>")
                .Append(HtmlPage.Encode(w.DisputeHelp)).Append("</p><form method=\"post\" action=\"/p/").Append(token).Append("/dispute\">").Append(check).Append(Lang(language))
                .Append("<fieldset><legend>").Append(HtmlPage.Encode(w.DisputeTitle)).Append("</legend>")
                .Append("<label><input type=\"radio\" name=\"kind\" value=\"paid\" checked> ").Append(HtmlPage.Encode(w.KindPaid)).Append("</label>")
                .Append("<label><input type=\"radio\" name=\"kind\" value=\"other\"> ").Append(HtmlPage.Encode(w.KindOther)).Append("</label></fieldset>")
                .Append("<label for=\"reference\">").Append(HtmlPage.Encode(w.ReferenceLabel)).Append("</label><input id=\"reference\" name=\"reference\" maxlength=\"64\">")
                .Append("<label for=\"text\">").Append(HtmlPage.Encode(w.TextLabel)).Append("</label><textarea id=\"text\" name=\"text\" maxlength=\"1000\" rows=\"3\"></textarea> ")
                .Append("<button type=\"submit\">").Append(HtmlPage.Encode(w.DisputeButton)).Append("</button></form></section>");
        }

        html.Append("<footer><dl><dt>").Append(HtmlPage.Encode(w.Device)).Append("</dt><dd>").Append(HtmlPage.Encode($"{p.Device.Make} {p.Device.Model}".Trim()))
            .Append(" · IMEI ").Append(HtmlPage.Encode(BorrowerDesk.MaskImei(p.Device.Imei))).Append("</dd>");
        if (plan.BorrowerPhone is { } phone)
            html.Append("<dt>").Append(HtmlPage.Encode(w.RegisteredPhone)).Append("</dt><dd>").Append(HtmlPage.Encode(Phones.Masked(phone))).Append("</dd>");
        var help = string.Join(" · ", new[] { lender.SupportPhone, lender.ShortCode }.Where(x => !string.IsNullOrEmpty(x)));
        if (help.Length > 0) html.Append("<dt>").Append(HtmlPage.Encode(w.Help)).Append("</dt><dd>").Append(HtmlPage.Encode(help)).Append("</dd>");
        var other = language == "sw" ? "en" : "sw";
        html.Append("</dl><p><a href=\"/p/").Append(token).Append("?lang=").Append(other).Append("\" lang=\"").Append(other).Append("\">")
            .Append(HtmlPage.Encode(w.Language)).Append("</a></p></footer>");
        return HtmlPage.Render(w.PayTitle, html.ToString(), status, language);
    }

    private static void CodeForm(StringBuilder html, string token, string language, BorrowerWords w, string check) =>
        html.Append("<section aria-labelledby=\"code\"><h2 id=\"code\">").Append(HtmlPage.Encode(w.CodeTitle)).Append("</h2><p>").Append(HtmlPage.Encode(w.CodeHelp))
            .Append("</p><form method=\"post\" action=\"/p/").Append(token).Append("/code\">").Append(check).Append(Lang(language))
            .Append("<button type=\"submit\">").Append(HtmlPage.Encode(w.CodeButton)).Append("</button></form></section>");

    private static DateOnly NextOrMax(PlanState state) => state.NextDueDate ?? DateOnly.MaxValue;

    private static string Lang(string language) => $"<input type=\"hidden\" name=\"lang\" value=\"{language}\">";

    private static string Check(HttpContext http, IAntiforgery antiforgery)
    {
        var tokens = antiforgery.GetAndStoreTokens(http);
        return $"<input type=\"hidden\" name=\"{HtmlPage.Encode(tokens.FormFieldName)}\" value=\"{HtmlPage.Encode(tokens.RequestToken)}\">";
    }

    // Whether a request's page has nothing more to wait for: the provider's answer is final and, once paid, the phone applied its unlock (or the wait is over).
    private static bool Done(BorrowerPlan p, PayRequest request, PaymentRequestState? state, TimeProvider time) =>
        state is null || state.Status switch
        {
            PaymentRequestStatus.Pending => time.GetUtcNow() - request.CreatedAt > FollowFor,
            PaymentRequestStatus.Paid => Applied(p) || time.GetUtcNow() - request.CreatedAt > FollowFor,
            _ => true,
        };

    // What the page shows changes with the stage: the provider's status, and once paid whether the phone applied its unlock.
    private static string Stage(BorrowerPlan p, PaymentRequestState? state) =>
        state is null ? "none" : state.Status == PaymentRequestStatus.Paid && Applied(p) ? "applied" : state.Status.ToString();

    private static bool Applied(BorrowerPlan p) => p.Device.LeaseMode != LeaseMode.Locked && p.Device.AppliedSeq >= p.Device.LeaseSeq;

    // The page's language: asked for (?lang=), else the browser's first choice of ours, else the plan's, else English.
    private static string Language(BorrowerPlan? p, string? asked, HttpContext http)
    {
        if (asked is "en" or "sw") return asked;
        var header = http.Request.Headers.AcceptLanguage.ToString();
        var first = header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(x => x.Split(';')[0].Split('-')[0].ToLowerInvariant()).FirstOrDefault(x => x is "en" or "sw");
        return first ?? p?.Language(null) ?? "en";
    }

    private static IResult NotFound(string? lang)
    {
        var w = BorrowerWords.For(lang);
        return HtmlPage.Render(w.PayTitle, "<p class=\"problem\">" + HtmlPage.Encode(w.NotFound) + "</p>", StatusCodes.Status404NotFound, w.Lang);
    }

    /// <summary>An amount typed in major units ("1450", "1,450.50") to minor units of <paramref name="currency"/>, exactly; null when it is not one.</summary>
    public static long? Amount(string? typed, string currency)
    {
        if (typed is null || typed.Length > 20) return null;
        var text = typed.Replace(",", "", StringComparison.Ordinal).Trim();
        var exponent = Currencies.Exponent(currency) ?? 2;
        var parts = text.Split('.');
        if (parts.Length > 2 || parts[0].Length is 0 or > 12 || !parts[0].All(char.IsAsciiDigit)) return null;
        var fraction = parts.Length == 2 ? parts[1] : "";
        if (fraction.Length > exponent || !fraction.All(char.IsAsciiDigit)) return null;
        var minor = long.Parse(parts[0], CultureInfo.InvariantCulture);
        for (var i = 0; i < exponent; i++) minor = minor * 10 + (i < fraction.Length ? fraction[i] - '0' : 0);
        return minor;
    }

    private static void Secure(HttpResponse response)
    {
        var h = response.Headers;
        h.ContentSecurityPolicy = $"default-src 'none'; style-src {HtmlPage.StyleHash}; script-src 'self'; connect-src 'self'; img-src 'self' https:; "
                                  + "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
        h["Referrer-Policy"] = "no-referrer";
        h.XContentTypeOptions = "nosniff";
        h.XFrameOptions = "DENY";
        h.CacheControl = "no-cache, no-store"; // what antiforgery wants of a page with a form
        h.Pragma = "no-cache";
    }
}
