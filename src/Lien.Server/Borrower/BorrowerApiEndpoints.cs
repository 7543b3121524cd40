using System.Security.Claims;
using Lien.Server.Api;
using Lien.Server.Audit;
using Lien.Server.Notices;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Lien.Server.Borrower;

internal sealed record CallbackRequestView(Guid Id, Guid PlanId, string Phone, string Channel, DateTimeOffset RequestedAt, DateTimeOffset? DoneAt,
    string? DoneBy, string? Note);

internal sealed record CallbackDone(string? Note);

internal static class BorrowerApiEndpoints
{
    public static IEndpointRouteBuilder MapBorrowerApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/v1/callback-requests").WithTags("Borrower");
        g.MapGet("", List).RequireAuthorization(Roles.Viewer)
            .WithDescription("Borrowers' requests to be called back (USSD), oldest first; open=true for those not yet done. The number is the one to call.");
        g.MapPost("/{id:guid}/done", Done).RequireAuthorization(Roles.Operator).WithDescription("Marks a call-back request done, with a note; audited.");

        // Africa's Talking posts incoming messages form-encoded, unsigned: the URL's token (and the optional source allow-list) is the proof.
        app.MapPost("/v1/sms/africastalking/incoming", Incoming).WithTags("Borrower").AllowAnonymous().DisableAntiforgery()
            .WithDescription("Africa's Talking's incoming-message callback (set it with ?token= the configured Lien:Sms:AfricasTalking:CallbackToken): BAL, CODE, PAID <M-Pesa code>, HELP (and SALIO, KODI, NIMELIPA, MSAADA), answered by SMS once per message id.");
        return app;
    }

    private static async Task<Results<Ok<Page<CallbackRequestView>>, ValidationProblem, ProblemHttpResult>> List(ClaimsPrincipal user, LienDb db, bool? open,
        string? after, int? limit, CancellationToken ct)
    {
        var errors = new Errors().Text(after, "after", 64);
        if (errors.Any) return errors.Problem();
        if (!Paging.TryCursor(after, out var cursor)) return TypedResults.Problem(statusCode: 400, title: "Bad cursor", detail: "after must be the cursor returned as next by the previous page.");
        var lenderId = user.LenderId();
        var q = db.Set<CallbackRequest>().AsNoTracking().Where(c => c.LenderId == lenderId);
        if (open is true) q = q.Where(c => c.DoneAt == null);
        if (open is false) q = q.Where(c => c.DoneAt != null);
        if (cursor is { } c) q = q.Where(x => x.Id.CompareTo(c) > 0);
        var n = Paging.Limit(limit);
        var rows = await q.OrderBy(x => x.Id).Take(n + 1).ToListAsync(ct);
        var items = rows.Take(n).Select(View).ToList();
        return TypedResults.Ok(new Page<CallbackRequestView>(items, rows.Count > n ? Paging.Cursor(items[^1].Id) : null));
    }

    private static async Task<Results<Ok<CallbackRequestView>, ValidationProblem, ProblemHttpResult>> Done(Guid id, CallbackDone body, ClaimsPrincipal user,
        LienDb db, AuditTrail audit, TimeProvider time, CancellationToken ct)
    {
        var errors = new Errors().Text(body.Note, "note", 500, lines: true);
        if (errors.Any) return errors.Problem();
        var lenderId = user.LenderId();
        var row = await db.InTransactionAsync(async () =>
        {
            var r = await db.Set<CallbackRequest>().FirstOrDefaultAsync(x => x.Id == id && x.LenderId == lenderId, ct);
            if (r is null || r.DoneAt is not null) return r;
            (r.DoneAt, r.DoneBy, r.Note) = (time.GetUtcNow(), user.Actor(), body.Note?.Trim());
            await audit.RecordAsync(lenderId, user.Actor(), AuditAction.BorrowerCallbackDone, $"plan:{r.PlanId}", r.Note, data: new { request = r.Id }, ct: ct);
            return r;
        }, ct);
        return row is null ? Problems.NotFound("No such call-back request.") : TypedResults.Ok(View(row));
    }

    private static async Task<Results<Ok, ValidationProblem, ProblemHttpResult>> Incoming(HttpContext http, [FromQuery] string? token,
        IOptions<AfricasTalkingOptions> options, SmsKeywords keywords, CancellationToken ct)
    {
        var (form, refusal) = await AfricasTalkingCallback.ReadAsync(http, token, options.Value, ct);
        if (form is null) return refusal!;
        var (from, text, id) = (form.Field("from"), form.Field("text"), form.Field("id"));
        var errors = new Errors().Text(id, "id", 100, required: true).Text(from, "from", 24, required: true).Text(text, "text", 1000, lines: true)
            .Text(form.Field("to"), "to", 32).Text(form.Field("date"), "date", 64).Text(form.Field("linkId"), "linkId", 100);
        var phone = Phones.Normalize(from);
        if (!errors.Any) errors.Check(phone is not null, "from", "from must be a phone number in E.164, e.g. +254712345678.");
        if (errors.Any) return errors.Problem();
        await keywords.AnswerAsync(id!, phone!, text ?? "", ct);
        return TypedResults.Ok(); // answered now or before: Africa's Talking must not send it again
    }

    private static CallbackRequestView View(CallbackRequest c) => new(c.Id, c.PlanId, c.Phone, c.Channel, c.RequestedAt, c.DoneAt, c.DoneBy, c.Note);
}
