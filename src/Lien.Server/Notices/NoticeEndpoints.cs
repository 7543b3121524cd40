using System.Security.Claims;
using Lien.Server.Api;
using Lien.Server.Leases;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Lien.Server.Notices;

internal sealed record SmsNoticeView(Guid Id, Guid DeviceId, Guid PlanId, string Kind, string Language, string To, string Text, SmsEncoding Encoding,
    int Segments, long LeaseSeq, SmsStatus Status, int Attempts, DateTimeOffset CreatedAt, DateTimeOffset? LastAttemptAt,
    DateTimeOffset? NextAttemptAt, DateTimeOffset? SentAt, DateTimeOffset? DeliveredAt, string? Provider, string? ProviderMessageId,
    string? ProviderStatus, int? ProviderStatusCode, string? Cost, string? Error);
internal sealed record TemplateText(string? Text);

internal static class NoticeEndpoints
{
    /// <summary>SMS notices: the listener that queues them, the dispatcher, Africa's Talking (<c>Lien:Sms</c>, <c>Lien:Sms:AfricasTalking</c>).</summary>
    public static IServiceCollection AddNotices(this IServiceCollection services, IConfiguration config)
    {
        services.Configure<SmsOptions>(config.GetSection("Lien:Sms"));
        services.Configure<AfricasTalkingOptions>(config.GetSection("Lien:Sms:AfricasTalking"));
        services.AddHttpClient<ISmsSender, AfricasTalkingSms>(c => c.Timeout = TimeSpan.FromSeconds(30));
        services.AddScoped<SmsNotices>();
        services.AddScoped<INoticeListener>(sp => sp.GetRequiredService<SmsNotices>());
        services.AddSingleton<SmsDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<SmsDispatcher>());
        return services;
    }

    public static IEndpointRouteBuilder MapNotices(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/v1/notices").WithTags("Notices").RequireAuthorization(Roles.Viewer);
        g.MapGet("", List).WithDescription("SMS notices, oldest first: each with its text, segments, attempts and the provider's status and delivery report.");
        g.MapGet("/{id:guid}", Get);

        var t = app.MapGroup("/v1/notice-templates").WithTags("Notices");
        t.MapGet("", Templates).RequireAuthorization(Roles.Viewer)
            .WithDescription("Every notice's SMS text by language and kind, the lender's own or Lien's, with the segments it takes for the lender's name and contacts.");
        t.MapPut("/{language}/{kind}", SetTemplate).RequireAuthorization(Roles.Admin)
            .WithDescription("The lender's own text for a notice. Placeholders: {lender} {amount} {reference} {shortCode} {supportPhone} {date} {deadline}. A reminder or due-today text must fit one SMS segment.");
        t.MapDelete("/{language}/{kind}", ResetTemplate).RequireAuthorization(Roles.Admin);

        // Africa's Talking posts delivery reports form-encoded, unsigned: the URL's token is the proof.
        app.MapPost("/v1/sms/africastalking/delivery-reports", DeliveryReport).WithTags("Notices").AllowAnonymous().DisableAntiforgery()
            .WithDescription("Africa's Talking's delivery-report callback (set it in the account's dashboard with ?token= the configured Lien:Sms:AfricasTalking:CallbackToken).");
        return app;
    }

    private static async Task<Results<Ok<Page<SmsNoticeView>>, ValidationProblem, ProblemHttpResult>> List(ClaimsPrincipal user, LienDb db,
        Guid? deviceId, Guid? planId, SmsStatus? status, string? after, int? limit, CancellationToken ct)
    {
        var errors = new Errors().Text(after, "after", 64)
            .Check(status is null || Enum.IsDefined(status.Value), "status", $"status must be one of {string.Join(", ", Enum.GetNames<SmsStatus>())}.");
        if (errors.Any) return errors.Problem();
        if (!Paging.TryCursor(after, out var cursor)) return TypedResults.Problem(statusCode: 400, title: "Bad cursor", detail: "after must be the cursor returned as next by the previous page.");
        var lenderId = user.LenderId();
        var q = db.SmsMessages.AsNoTracking().Where(m => m.LenderId == lenderId);
        if (deviceId is { } d) q = q.Where(m => m.DeviceId == d);
        if (planId is { } p) q = q.Where(m => m.PlanId == p);
        if (status is { } s) q = q.Where(m => m.Status == s);
        if (cursor is { } c) q = q.Where(m => m.Id.CompareTo(c) > 0);
        var n = Paging.Limit(limit);
        var rows = await q.OrderBy(m => m.Id).Take(n + 1).ToListAsync(ct);
        var items = rows.Take(n).Select(View).ToList();
        return TypedResults.Ok(new Page<SmsNoticeView>(items, rows.Count > n ? Paging.Cursor(items[^1].Id) : null));
    }

    private static async Task<Results<Ok<SmsNoticeView>, ProblemHttpResult>> Get(Guid id, ClaimsPrincipal user, LienDb db, CancellationToken ct)
    {
        var lenderId = user.LenderId();
        var m = await db.SmsMessages.AsNoTracking().FirstOrDefaultAsync(x => x.Id == id && x.LenderId == lenderId, ct);
        return m is null ? Problems.NotFound("No such notice.") : TypedResults.Ok(View(m));
    }

    private static async Task<Ok<List<TemplateView>>> Templates(ClaimsPrincipal user, SmsNotices notices, CancellationToken ct) =>
        TypedResults.Ok(await notices.TemplatesAsync(user.LenderId(), ct));

    private static async Task<Results<Ok<TemplateView>, ValidationProblem>> SetTemplate(string language, string kind, TemplateText body,
        ClaimsPrincipal user, SmsNotices notices, CancellationToken ct)
    {
        var errors = TemplateKey(language, kind).Text(body.Text, "text", SmsTemplates.MaxLength, required: true, lines: true);
        if (!errors.Any && await notices.ProblemAsync(user.LenderId(), kind, body.Text!, ct) is { } problem) errors.Add("text", problem);
        if (errors.Any) return errors.Problem();
        return TypedResults.Ok(await notices.SetTemplateAsync(user.LenderId(), language, kind, body.Text!, user.Actor(), ct));
    }

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> ResetTemplate(string language, string kind, ClaimsPrincipal user,
        SmsNotices notices, CancellationToken ct)
    {
        var errors = TemplateKey(language, kind);
        if (errors.Any) return errors.Problem();
        return await notices.ResetTemplateAsync(user.LenderId(), language, kind, user.Actor(), ct)
            ? TypedResults.NoContent()
            : Problems.NotFound($"The lender has no {language} text of its own for {kind}; Lien's is in use.");
    }

    private static Errors TemplateKey(string language, string kind) => new Errors()
        .Check(SmsTemplates.IsLanguage(language), "language", $"language must be one of {string.Join(", ", SmsTemplates.Languages)}.")
        .Check(NoticeKinds.All.Contains(kind), "kind", $"kind must be one of {string.Join(", ", NoticeKinds.All)}.");

    private static async Task<Results<Ok, ValidationProblem, ProblemHttpResult>> DeliveryReport(HttpContext http, [FromQuery] string? token,
        IOptions<AfricasTalkingOptions> options, SmsNotices notices, CancellationToken ct)
    {
        var (form, refusal) = await AfricasTalkingCallback.ReadAsync(http, token, options.Value, ct);
        if (form is null) return refusal!;
        var (id, status, reason) = (form.Field("id"), form.Field("status"), form.Field("failureReason"));
        var errors = new Errors().Text(id, "id", 100, required: true).Text(status, "status", 64, required: true).Text(reason, "failureReason", 200);
        if (errors.Any) return errors.Problem();
        // An unknown id is answered alike: the provider must not retry it, and nothing is told about what is stored.
        await notices.RecordReportAsync(id!, status!, string.IsNullOrEmpty(reason) ? null : reason, ct);
        return TypedResults.Ok();
    }

    private static SmsNoticeView View(SmsMessage m) => new(m.Id, m.DeviceId, m.PlanId, m.Kind, m.Language, m.To, m.ShownText, m.Encoding, m.Segments,
        m.LeaseSeq, m.Status, m.Attempts, m.CreatedAt, m.LastAttemptAt, m.DueAt, m.SentAt, m.DeliveredAt, m.Provider, m.ProviderMessageId,
        m.ProviderStatus, m.ProviderStatusCode, m.Cost, m.Error);
}
