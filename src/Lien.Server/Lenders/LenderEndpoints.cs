using System.Security.Claims;
using Lien.Protocol;
using Lien.Server.Api;
using Lien.Server.Audit;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Lenders;

/// <summary>The lender as its staff see it; <see cref="Warnings"/> names what makes the lender's setup unsafe (open enrollment).</summary>
internal sealed record LenderView(Guid Id, LenderSettings Settings, IReadOnlyList<TrustKey> TrustKeys, DateTimeOffset CreatedAt, IReadOnlyList<string> Warnings);
internal sealed record NewApiKey(string? Name, ApiRole? Role);
internal sealed record ApiKeyView(string Id, string Name, ApiRole Role, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);
internal sealed record CreatedApiKey(string Id, string Name, ApiRole Role, string Token);

internal static class LenderEndpoints
{
    /// <summary>Lender API keys as the authentication scheme, and one authorization policy per role.</summary>
    public static IServiceCollection AddLenders(this IServiceCollection services)
    {
        services.AddAuthentication(ApiKeyAuthentication.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthentication>(ApiKeyAuthentication.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(Roles.Viewer, p => p.RequireRole(nameof(ApiRole.Viewer), nameof(ApiRole.Operator), nameof(ApiRole.Admin)))
            .AddPolicy(Roles.Operator, p => p.RequireRole(nameof(ApiRole.Operator), nameof(ApiRole.Admin)))
            .AddPolicy(Roles.Admin, p => p.RequireRole(nameof(ApiRole.Admin)));
        services.AddScoped<LenderSetup>();
        services.AddSingleton<SigningKeys>();
        services.AddSingleton<IAuditSigner, LenderAuditSigner>();
        return services;
    }

    public static IEndpointRouteBuilder MapLenders(this IEndpointRouteBuilder app)
    {
        var lender = app.MapGroup("/v1/lender").WithTags("Lender");
        lender.MapGet("", Get).RequireAuthorization(Roles.Viewer);
        lender.MapPatch("", Update).RequireAuthorization(Roles.Admin);
        lender.MapPost("/keys/rotate", Rotate).RequireAuthorization(Roles.Admin);

        // Published for anyone who must verify a lease: agents, auditors, regulators.
        app.MapGet("/v1/lenders/{lenderId:guid}/keys", PublicKeys).WithTags("Lender").AllowAnonymous();

        var keys = app.MapGroup("/v1/api-keys").WithTags("API keys").RequireAuthorization(Roles.Admin);
        keys.MapGet("", ListKeys);
        keys.MapPost("", CreateKey);
        keys.MapDelete("/{id}", RevokeKey);
        return app;
    }

    private static async Task<Ok<LenderView>> Get(ClaimsPrincipal user, LienDb db, CancellationToken ct)
    {
        var l = await db.Lenders.AsNoTracking().FirstAsync(x => x.Id == user.LenderId(), ct);
        return TypedResults.Ok(View(l));
    }

    private static async Task<Results<Ok<LenderView>, ValidationProblem>> Update(LenderSettings settings, ClaimsPrincipal user,
        LenderSetup setup, CancellationToken ct)
    {
        var errors = settings.Validate(creating: false);
        if (errors.Any) return errors.Problem();
        return TypedResults.Ok(View(await setup.UpdateAsync(user.LenderId(), settings, user.Actor(), ct)));
    }

    private static async Task<Ok<LenderView>> Rotate(ClaimsPrincipal user, LenderSetup setup, CancellationToken ct) =>
        TypedResults.Ok(View(await setup.RotateKeyAsync(user.LenderId(), user.Actor(), ct)));

    private static async Task<Results<Ok<IReadOnlyList<TrustKey>>, ProblemHttpResult>> PublicKeys(Guid lenderId, LienDb db, CancellationToken ct)
    {
        var json = await db.Lenders.Where(l => l.Id == lenderId).Select(l => l.TrustKeysJson).FirstOrDefaultAsync(ct);
        return json is null ? Problems.NotFound("No such lender.") : TypedResults.Ok(SigningKeys.Published(json));
    }

    private static async Task<Ok<List<ApiKeyView>>> ListKeys(ClaimsPrincipal user, LienDb db, CancellationToken ct) =>
        TypedResults.Ok(await db.ApiKeys.AsNoTracking().Where(k => k.LenderId == user.LenderId()).OrderBy(k => k.CreatedAt)
            .Select(k => new ApiKeyView(k.Id, k.Name, k.Role, k.CreatedAt, k.RevokedAt)).ToListAsync(ct));

    private static async Task<Results<Created<CreatedApiKey>, ValidationProblem>> CreateKey(NewApiKey body, ClaimsPrincipal user,
        LenderSetup setup, CancellationToken ct)
    {
        var errors = new Errors().Text(body.Name, "name", 100, required: true).Check(body.Role is not null && Enum.IsDefined(body.Role.Value), "role", "role must be Viewer, Operator or Admin.");
        if (errors.Any) return errors.Problem();
        var (key, token) = await setup.CreateApiKeyAsync(user.LenderId(), body.Name!, body.Role!.Value, user.Actor(), ct);
        return TypedResults.Created($"/v1/api-keys/{key.Id}", new CreatedApiKey(key.Id, key.Name, key.Role, token));
    }

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> RevokeKey(string id, ClaimsPrincipal user, LenderSetup setup,
        CancellationToken ct)
    {
        var errors = new Errors().Text(id, "id", 40);
        if (errors.Any) return errors.Problem();
        return await setup.RevokeApiKeyAsync(user.LenderId(), id, user.Actor(), ct) ? TypedResults.NoContent() : Problems.NotFound("No such API key.");
    }

    private static LenderView View(Lender l) => new(l.Id, LenderSettings.Of(l), l.TrustKeys(), l.CreatedAt,
        l.EnrollmentPolicy == EnrollmentPolicy.Open ? [EnrollmentPolicies.OpenWarning] : []);
}
