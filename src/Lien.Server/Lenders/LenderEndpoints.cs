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
/// <summary>A JWK Set (RFC 7517 §5): the lender's lease-signing keys that are not revoked.</summary>
internal sealed record JwkSet(IReadOnlyList<TrustKey> Keys);
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
        services.AddSingleton<ApiKeyCache>();
        services.AddSingleton<IAuditSigner, LenderAuditSigner>();
        return services;
    }

    public static IEndpointRouteBuilder MapLenders(this IEndpointRouteBuilder app)
    {
        var lender = app.MapGroup("/v1/lender").WithTags("Lender");
        lender.MapGet("", Get).RequireAuthorization(Roles.Viewer);
        lender.MapPatch("", Update).RequireAuthorization(Roles.Admin);
        lender.MapPost("/keys/rotate", Rotate).RequireAuthorization(Roles.Admin);
        lender.MapPost("/keys/{kid}/revoke", RevokeSigningKey).RequireAuthorization(Roles.Admin)
            .WithDescription("Revokes a retired lease-signing key: it leaves the signed key set, and devices whose lease it signed get the same lease re-signed. The active key cannot be revoked: rotate first.");

        // Published for anyone who must verify a lease: agents, auditors, regulators.
        app.MapGet("/v1/lenders/{lenderId:guid}/keys", PublicKeys).WithTags("Lender").AllowAnonymous()
            .WithDescription("A JWK Set of the lender's lease-signing keys that are not revoked.");
        app.MapGet("/v1/lenders/{lenderId:guid}/keyset", KeySet).WithTags("Lender").AllowAnonymous()
            .WithDescription("The lender's current key-set statement (JWS General JSON Serialization), as devices receive it.");

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

    private static async Task<Results<Ok<LenderView>, ValidationProblem, ProblemHttpResult>> RevokeSigningKey(string kid, ClaimsPrincipal user,
        LenderSetup setup, AuditCheckpointer checkpointer, CancellationToken ct)
    {
        var errors = new Errors().Text(kid, "kid", 40, required: true);
        if (errors.Any) return errors.Problem();
        var (outcome, lender) = await setup.RevokeKeyAsync(user.LenderId(), kid, user.Actor(), ct);
        // Checkpoints the revoked key signed no longer count: the chain head, with the revocation, is signed again at once.
        if (outcome == KeyRevocation.Revoked) await checkpointer.CheckpointAsync(lender.Id, ct);
        return outcome switch
        {
            KeyRevocation.Revoked or KeyRevocation.AlreadyRevoked => TypedResults.Ok(View(lender)),
            KeyRevocation.Active => Problems.Conflict($"Key {kid} is the active signing key; rotate (POST /v1/lender/keys/rotate) first, then revoke it."),
            _ => Problems.NotFound("No such signing key."),
        };
    }

    private static async Task<Results<Ok<JwkSet>, ProblemHttpResult>> PublicKeys(Guid lenderId, LienDb db, CancellationToken ct)
    {
        var json = await db.Lenders.Where(l => l.Id == lenderId).Select(l => l.TrustKeysJson).FirstOrDefaultAsync(ct);
        return json is null ? Problems.NotFound("No such lender.") : TypedResults.Ok(new JwkSet(SigningKeys.Published(json)));
    }

    private static async Task<Results<Ok<KeySetStatement>, ProblemHttpResult>> KeySet(Guid lenderId, LienDb db, CancellationToken ct)
    {
        var json = await db.Lenders.Where(l => l.Id == lenderId).Select(l => l.KeySetJson).FirstOrDefaultAsync(ct);
        return json is null ? Problems.NotFound("No such lender.") : TypedResults.Ok(SigningKeys.Statement(json));
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
