using System.Security.Claims;
using Lien.Server.Api;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Lien.Server.Console;

internal sealed record NewConsoleUser(string? UserName, ConsoleRole? Role);
internal sealed record InvitedUser(string Id, string UserName, ConsoleRole Role, string InviteUrl);

/// <summary>The console's authorization policies: each admits its role and every role above it, signed in by cookie.</summary>
internal static class ConsolePolicies
{
    public const string Viewer = "console:viewer";
    public const string Collections = "console:collections";
    public const string Operator = "console:operator";
    public const string Admin = "console:admin";
    public const string RoleClaim = "lien:console-role";

    public static string For(ConsoleRole role) => role switch
    {
        ConsoleRole.Admin => Admin,
        ConsoleRole.Operator => Operator,
        ConsoleRole.Collections => Collections,
        _ => Viewer,
    };

    public static ConsoleRole Role(this ClaimsPrincipal user) =>
        Enum.TryParse<ConsoleRole>(user.FindFirstValue(RoleClaim), out var r) ? r : ConsoleRole.Viewer;

    /// <summary>May this user act at <paramref name="role"/>'s level?</summary>
    public static bool May(this ClaimsPrincipal user, ConsoleRole role) => user.Role() >= role;

    /// <summary>The actor audit events name for a console user.</summary>
    public static string ConsoleActor(this ClaimsPrincipal user) => $"console:{user.Identity?.Name}";
}

/// <summary>The lender console: staff logins (ASP.NET Core Identity, cookie, TOTP two-factor) and its Razor Pages under /console.</summary>
internal static class ConsoleEndpoints
{
    public const string Csp = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public static IServiceCollection AddConsole(this IServiceCollection services)
    {
        ConsoleKeys.Add(services);
        services.AddIdentityCore<ConsoleUser>(o =>
            {
                // Length, not composition (NIST SP 800-63B): 12 characters, at least 6 different.
                o.Password.RequiredLength = 12;
                o.Password.RequiredUniqueChars = 6;
                o.Password.RequireDigit = o.Password.RequireLowercase = o.Password.RequireUppercase = o.Password.RequireNonAlphanumeric = false;
                o.Lockout.MaxFailedAccessAttempts = 5;
                o.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(15);
                o.Lockout.AllowedForNewUsers = true;
                o.User.AllowedUserNameCharacters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._@+";
                o.Tokens.AuthenticatorTokenProvider = AuthenticatorCodes.ProviderName;
            })
            .AddSignInManager()
            .AddEntityFrameworkStores<LienDb>()
            .AddDefaultTokenProviders()
            .AddTokenProvider<AuthenticatorCodes>(AuthenticatorCodes.ProviderName)
            .AddClaimsPrincipalFactory<ConsoleClaims>();
        // A cookie scheme of its own: the API's default scheme (bearer keys) is unchanged, and a console cookie opens no /v1 route.
        services.AddAuthentication().AddIdentityCookies();
        services.ConfigureApplicationCookie(o =>
        {
            o.Cookie.Name = "lien-console";
            o.Cookie.Path = "/console";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = TimeSpan.FromHours(8);
            o.SlidingExpiration = true;
            o.LoginPath = "/console/login";
            o.LogoutPath = "/console/logout";
            o.AccessDeniedPath = "/console/denied";
        });
        services.AddOptions<Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationOptions>(IdentityConstants.TwoFactorUserIdScheme)
            .Configure(o =>
            {
                o.Cookie.Name = "lien-console-2fa";
                o.Cookie.Path = "/console";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
            });
        services.AddAuthorizationBuilder()
            .AddPolicy(ConsolePolicies.Viewer, p => Require(p, ConsoleRole.Viewer))
            .AddPolicy(ConsolePolicies.Collections, p => Require(p, ConsoleRole.Collections))
            .AddPolicy(ConsolePolicies.Operator, p => Require(p, ConsoleRole.Operator))
            .AddPolicy(ConsolePolicies.Admin, p => Require(p, ConsoleRole.Admin));
        services.AddFormProtection();
        services.AddRazorPages(o =>
        {
            o.RootDirectory = "/Console/Pages";
            o.Conventions.AuthorizeFolder("/", ConsolePolicies.Viewer);
            o.Conventions.AllowAnonymousToPage("/Login");
            o.Conventions.AllowAnonymousToPage("/LoginTwoFactor");
            o.Conventions.AllowAnonymousToPage("/Invite");
        });
        services.AddScoped<ConsoleStaff>();
        services.AddScoped<DeviceImports>();
        services.AddScoped<DeviceBook>();
        services.AddScoped<ConsoleCsv>();
        services.AddScoped<DeviceStory>();
        services.AddSingleton<DeviceImportRunner>();
        services.AddHostedService(sp => sp.GetRequiredService<DeviceImportRunner>());
        return services;
    }

    private static void Require(Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder p, ConsoleRole least) =>
        p.AddAuthenticationSchemes(IdentityConstants.ApplicationScheme)
            .RequireAuthenticatedUser()
            .RequireClaim(Principals.LenderClaim)
            .RequireAssertion(c => c.User.Role() >= least);

    public static IEndpointRouteBuilder MapConsole(this IEndpointRouteBuilder app)
    {
        app.MapGet("/console/console.css", () => Results.Text(ConsoleStyle.Css, "text/css; charset=utf-8")).ExcludeFromDescription();
        app.MapRazorPages();
        // Public: phones fetch the logo their lock screen names.
        app.MapGet("/logos/{lenderId:guid}", async (Guid lenderId, LienDb db, HttpResponse response, CancellationToken ct) =>
        {
            var logo = await db.Set<LenderLogo>().AsNoTracking().FirstOrDefaultAsync(l => l.LenderId == lenderId, ct);
            if (logo is null) return Results.NotFound();
            response.Headers.XContentTypeOptions = "nosniff";
            response.Headers.ContentSecurityPolicy = "default-src 'none'";
            response.Headers.CacheControl = "public, max-age=86400";
            return Results.Bytes(logo.Bytes, logo.ContentType);
        }).ExcludeFromDescription().AllowAnonymous();
        // The first admin of a lender (and any later user) from an admin API key: the answer's link sets the password once.
        app.MapPost("/v1/console/users", Invite).WithTags("Console").RequireAuthorization(Roles.Admin)
            .WithDescription("Invites a console user of the caller's lender; the answer's inviteUrl (one use) sets the password. Roles: viewer, collections, operator, admin.");
        return app;
    }

    private static async Task<Results<Created<InvitedUser>, ValidationProblem, ProblemHttpResult>> Invite(NewConsoleUser body, ClaimsPrincipal user,
        ConsoleStaff staff, HttpRequest request, CancellationToken ct)
    {
        var errors = ConsoleStaff.Validate(body.UserName, body.Role);
        if (errors.Any) return errors.Problem();
        var outcome = await staff.InviteAsync(user.LenderId(), body.UserName!, body.Role ?? ConsoleRole.Viewer, user.Actor(), ct);
        return outcome switch
        {
            StaffOutcome.Invited i => TypedResults.Created($"/console/users",
                new InvitedUser(i.User.Id, i.User.UserName!, i.User.Role, $"{request.Scheme}://{request.Host}{i.Link}")),
            StaffOutcome.Refused r => Problems.Conflict(r.Detail),
            _ => throw new InvalidOperationException(),
        };
    }

    /// <summary>Every console answer: a strict Content-Security-Policy (no script, styles from the stylesheet only), no framing, no referrer, not cached.</summary>
    public static IApplicationBuilder UseConsoleHeaders(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        if (http.Request.Path.StartsWithSegments("/console"))
        {
            var h = http.Response.Headers;
            h.ContentSecurityPolicy = Csp;
            h.XContentTypeOptions = "nosniff";
            h.XFrameOptions = "DENY";
            h["Referrer-Policy"] = "no-referrer";
            if (!http.Request.Path.StartsWithSegments("/console/console.css")) h.CacheControl = "no-store";
        }
        await next();
    });
}

/// <summary>The console user's claims: Identity's, and the lender and console role every page and query reads.</summary>
internal sealed class ConsoleClaims(UserManager<ConsoleUser> users, IOptions<IdentityOptions> options)
    : UserClaimsPrincipalFactory<ConsoleUser>(users, options)
{
    protected override async Task<ClaimsIdentity> GenerateClaimsAsync(ConsoleUser user)
    {
        var identity = await base.GenerateClaimsAsync(user);
        identity.AddClaim(new Claim(Principals.LenderClaim, user.LenderId.ToString()));
        identity.AddClaim(new Claim(ConsolePolicies.RoleClaim, user.Role.ToString()));
        return identity;
    }
}
