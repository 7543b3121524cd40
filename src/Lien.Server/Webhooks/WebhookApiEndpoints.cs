using System.Security.Claims;
using System.Text.Json;
using Lien.Server.Api;
using Lien.Server.Audit;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Lien.Server.Webhooks;

internal sealed record NewWebhookEndpoint(string? Url, string? Description, IReadOnlyList<string?>? EventTypes);
internal sealed record WebhookEndpointChange(string? Url, string? Description, IReadOnlyList<string?>? EventTypes, bool? Enabled);
internal sealed record WebhookEndpointView(Guid Id, string Url, string? Description, IReadOnlyList<string> EventTypes, bool Enabled,
    DateTimeOffset CreatedAt, DateTimeOffset? DisabledAt, string? DisabledReason, DateTimeOffset? FailingSince);
internal sealed record CreatedWebhookEndpoint(WebhookEndpointView Endpoint, string Secret);
internal sealed record WebhookDeliveryView(Guid Id, string WebhookId, Guid EndpointId, string EventType, WebhookDeliveryStatus Status, int Attempts,
    DateTimeOffset CreatedAt, DateTimeOffset? LastAttemptAt, int? LastStatusCode, string? LastError, DateTimeOffset? NextAttemptAt,
    DateTimeOffset? DeliveredAt, JsonElement Payload);

internal static class WebhookApiEndpoints
{
    /// <summary>The webhook outbox (fed from the audit trail), its sender and its endpoints' registry (<c>Lien:Webhooks</c>).</summary>
    public static IServiceCollection AddWebhooks(this IServiceCollection services, IConfiguration config)
    {
        services.Configure<WebhookOptions>(config.GetSection("Lien:Webhooks"));
        services.AddSingleton<WebhookSubscriptions>();
        services.AddSingleton<WebhookOutbox>();
        services.AddSingleton<IAuditListener>(sp => sp.GetRequiredService<WebhookOutbox>());
        services.AddScoped<WebhookRegistry>();
        // A redirect is an answer, not a delivery: the receiver's URL is the one the lender gave.
        services.AddHttpClient(WebhookSender.ClientName, (sp, c) => c.Timeout = sp.GetRequiredService<IOptions<WebhookOptions>>().Value.Timeout)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });
        services.AddSingleton<WebhookSender>();
        services.AddHostedService(sp => sp.GetRequiredService<WebhookSender>());
        services.AddHostedService<PostgresWebhookListener>();
        return services;
    }

    public static IEndpointRouteBuilder MapWebhooks(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/v1/webhooks").WithTags("Webhooks");
        g.MapGet("/event-types", () => TypedResults.Ok(WebhookEventTypes.All)).RequireAuthorization(Roles.Viewer)
            .WithDescription("The event types an endpoint can receive; \"*\" in an endpoint's list means every type, those added later too.");
        g.MapPost("/endpoints", Create).RequireAuthorization(Roles.Admin)
            .WithDescription("Registers a URL for webhooks (Standard Webhooks). The answer holds the endpoint's signing secret (whsec_…), shown this once.");
        g.MapGet("/endpoints", List).RequireAuthorization(Roles.Viewer);
        g.MapGet("/endpoints/{id:guid}", Get).RequireAuthorization(Roles.Viewer);
        g.MapPatch("/endpoints/{id:guid}", Update).RequireAuthorization(Roles.Admin)
            .WithDescription("Changes the URL, description or event types; enabled: false disables it, enabled: true enables it again (an endpoint disabled for failing says why in disabledReason).");
        g.MapDelete("/endpoints/{id:guid}", Delete).RequireAuthorization(Roles.Admin);
        g.MapGet("/endpoints/{id:guid}/deliveries", Deliveries).RequireAuthorization(Roles.Viewer)
            .WithDescription("The endpoint's deliveries, oldest first: each with its attempts, the last answer's status code or error, and when the next attempt is due.");
        g.MapGet("/deliveries/{id:guid}", Delivery).RequireAuthorization(Roles.Viewer);
        g.MapPost("/deliveries/{id:guid}/redeliver", Redeliver).RequireAuthorization(Roles.Operator)
            .WithDescription("Sends the delivery again now (with the same webhook-id), retried for days as a new one would be.");
        return app;
    }

    private static async Task<Results<Created<CreatedWebhookEndpoint>, ValidationProblem, ProblemHttpResult>> Create(NewWebhookEndpoint body, ClaimsPrincipal user,
        WebhookRegistry registry, CancellationToken ct)
    {
        var errors = new Errors().Text(body.Url, "url", WebhookLimits.UrlLength, required: true).Url(body.Url, "url")
            .Text(body.Description, "description", WebhookLimits.DescriptionLength);
        var types = EventTypes(body.EventTypes, errors);
        if (errors.Any) return errors.Problem();
        return await registry.CreateAsync(user.LenderId(), body.Url!, Blank(body.Description), types, user.Actor(), ct) switch
        {
            WebhookOutcome.Done<(WebhookEndpoint Endpoint, string Secret)>(var made) =>
                TypedResults.Created($"/v1/webhooks/endpoints/{made.Endpoint.Id}", new CreatedWebhookEndpoint(View(made.Endpoint), made.Secret)),
            WebhookOutcome.Refused r => Refusal(r),
            var other => throw new InvalidOperationException($"Unexpected webhook outcome {other}."),
        };
    }

    private static async Task<Ok<List<WebhookEndpointView>>> List(ClaimsPrincipal user, LienDb db, CancellationToken ct)
    {
        var lenderId = user.LenderId();
        var rows = await db.WebhookEndpoints.AsNoTracking().Where(e => e.LenderId == lenderId).OrderBy(e => e.CreatedAt).ToListAsync(ct);
        return TypedResults.Ok(rows.Select(View).ToList());
    }

    private static async Task<Results<Ok<WebhookEndpointView>, ProblemHttpResult>> Get(Guid id, ClaimsPrincipal user, LienDb db, CancellationToken ct)
    {
        var lenderId = user.LenderId();
        var e = await db.WebhookEndpoints.AsNoTracking().FirstOrDefaultAsync(x => x.Id == id && x.LenderId == lenderId, ct);
        return e is null ? Problems.NotFound("No such webhook endpoint.") : TypedResults.Ok(View(e));
    }

    private static async Task<Results<Ok<WebhookEndpointView>, ValidationProblem, ProblemHttpResult>> Update(Guid id, WebhookEndpointChange body,
        ClaimsPrincipal user, WebhookRegistry registry, CancellationToken ct)
    {
        var errors = new Errors().Text(body.Url, "url", WebhookLimits.UrlLength).Url(body.Url, "url")
            .Text(body.Description, "description", WebhookLimits.DescriptionLength)
            .Check(body.Url is null || body.Url.Length > 0, "url", "url may be left out, not empty.");
        var types = EventTypes(body.EventTypes, errors);
        if (errors.Any) return errors.Problem();
        return await registry.UpdateAsync(user.LenderId(), id, body.Url, body.Description?.Trim(), types, body.Enabled, user.Actor(), ct) switch
        {
            WebhookOutcome.Done<WebhookEndpoint>(var e) => TypedResults.Ok(View(e)),
            WebhookOutcome.Refused r => Refusal(r),
            var other => throw new InvalidOperationException($"Unexpected webhook outcome {other}."),
        };
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(Guid id, ClaimsPrincipal user, WebhookRegistry registry, CancellationToken ct) =>
        await registry.DeleteAsync(user.LenderId(), id, user.Actor(), ct) is WebhookOutcome.Refused r ? Refusal(r) : TypedResults.NoContent();

    private static async Task<Results<Ok<Page<WebhookDeliveryView>>, ValidationProblem, ProblemHttpResult>> Deliveries(Guid id, ClaimsPrincipal user, LienDb db,
        WebhookDeliveryStatus? status, string? after, int? limit, CancellationToken ct)
    {
        var errors = new Errors().Text(after, "after", 64)
            .Check(status is null || Enum.IsDefined(status.Value), "status", $"status must be one of {string.Join(", ", Enum.GetNames<WebhookDeliveryStatus>())}.");
        if (errors.Any) return errors.Problem();
        if (!Paging.TryCursor(after, out var cursor)) return TypedResults.Problem(statusCode: 400, title: "Bad cursor", detail: "after must be the cursor returned as next by the previous page.");
        var lenderId = user.LenderId();
        if (!await db.WebhookEndpoints.AnyAsync(e => e.Id == id && e.LenderId == lenderId, ct)) return Problems.NotFound("No such webhook endpoint.");
        var q = db.WebhookMessages.AsNoTracking().Where(m => m.EndpointId == id && m.LenderId == lenderId);
        if (status is { } s) q = q.Where(m => m.Status == s);
        if (cursor is { } c) q = q.Where(m => m.Id.CompareTo(c) > 0);
        var n = Paging.Limit(limit);
        var rows = await q.OrderBy(m => m.Id).Take(n + 1).ToListAsync(ct);
        var items = rows.Take(n).Select(View).ToList();
        return TypedResults.Ok(new Page<WebhookDeliveryView>(items, rows.Count > n ? Paging.Cursor(items[^1].Id) : null));
    }

    private static async Task<Results<Ok<WebhookDeliveryView>, ProblemHttpResult>> Delivery(Guid id, ClaimsPrincipal user, LienDb db, CancellationToken ct)
    {
        var lenderId = user.LenderId();
        var m = await db.WebhookMessages.AsNoTracking().FirstOrDefaultAsync(x => x.Id == id && x.LenderId == lenderId, ct);
        return m is null ? Problems.NotFound("No such webhook delivery.") : TypedResults.Ok(View(m));
    }

    private static async Task<Results<Accepted<WebhookDeliveryView>, ProblemHttpResult>> Redeliver(Guid id, ClaimsPrincipal user, WebhookRegistry registry,
        IOptions<WebhookOptions> options, CancellationToken ct) =>
        await registry.RedeliverAsync(user.LenderId(), id, options.Value.RetryFor, ct) switch
        {
            WebhookOutcome.Done<WebhookMessage>(var m) => TypedResults.Accepted($"/v1/webhooks/deliveries/{m.Id}", View(m)),
            WebhookOutcome.Refused r => Refusal(r),
            var other => throw new InvalidOperationException($"Unexpected webhook outcome {other}."),
        };

    // Null: not given. Each type must be in the catalogue (or "*"); an empty list would deliver nothing, so it is refused.
    private static IReadOnlyList<string>? EventTypes(IReadOnlyList<string?>? types, Errors errors)
    {
        if (types is null) return null;
        if (types.Count == 0) errors.Add("eventTypes", "eventTypes must name at least one event type, or \"*\" for every type; leave it out for every type.");
        if (types.Count > 50) errors.Add("eventTypes", "eventTypes holds at most 50 types.");
        for (var i = 0; i < Math.Min(types.Count, 50); i++)
        {
            var t = types[i];
            if (t is null || (t != WebhookEventTypes.Every && !WebhookEventTypes.IsKnown(t)))
                errors.Add($"eventTypes[{i}]", $"eventTypes[{i}] is not an event type; the types are \"*\" and {string.Join(", ", WebhookEventTypes.All)}.");
        }
        return errors.Any ? null : types.OfType<string>().ToList();
    }

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    private static ProblemHttpResult Refusal(WebhookOutcome.Refused r) => r.Reason switch
    {
        WebhookRefusal.UnknownEndpoint or WebhookRefusal.UnknownDelivery => Problems.NotFound(r.Detail),
        _ => Problems.Conflict(r.Detail),
    };

    private static WebhookEndpointView View(WebhookEndpoint e) => new(e.Id, e.Url, e.Description, e.Types() ?? [WebhookEventTypes.Every],
        e.DisabledAt is null, e.CreatedAt, e.DisabledAt, e.DisabledReason, e.FailingSince);

    private static WebhookDeliveryView View(WebhookMessage m) => new(m.Id, m.WebhookId, m.EndpointId, m.EventType, m.Status, m.Attempts, m.CreatedAt,
        m.LastAttemptAt, m.LastStatusCode, m.LastError, m.DueAt, m.DeliveredAt, JsonDocument.Parse(m.Payload).RootElement.Clone());
}
