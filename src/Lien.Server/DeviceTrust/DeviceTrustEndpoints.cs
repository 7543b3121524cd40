using System.Security.Claims;
using Lien.Server.Api;
using Lien.Server.Lenders;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Lien.Server.DeviceTrust;

/// <summary>A device's new enrollment token, the only time it is shown: as text, as the provisioning QR code's JSON, and as that QR code (SVG).</summary>
internal sealed record EnrollmentTokenView(Guid DeviceId, string Token, DateTimeOffset ExpiresAt, string Provisioning, string QrSvg);

/// <summary>
/// What a phone must show to enroll (the lender's <see cref="EnrollmentPolicy"/>): enrollment challenges, the lender's
/// one-time enrollment tokens with their provisioning QR codes, and hardware key attestation. The device-facing
/// endpoints are in AgentApi; this file maps the lender's.
/// </summary>
internal static class DeviceTrustEndpoints
{
    public static IServiceCollection AddDeviceTrust(this IServiceCollection services, IConfiguration config)
    {
        services.Configure<EnrollmentOptions>(config.GetSection("Lien:Enrollment"));
        services.Configure<ProvisioningOptions>(config.GetSection("Lien:Provisioning"));
        services.Configure<AttestationOptions>(config.GetSection("Lien:Attestation"));
        services.AddHttpClient(nameof(AttestationCheck), c => c.Timeout = TimeSpan.FromSeconds(20));
        services.AddSingleton<EnrollmentChallenges>();
        services.AddScoped<EnrollmentTokenIssuer>();
        services.AddSingleton<AttestationCheck>();
        return services;
    }

    public static IEndpointRouteBuilder MapDeviceTrust(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/devices/{deviceId:guid}/enrollment-token", Issue).WithTags("Devices").RequireAuthorization(Roles.Operator)
            .WithDescription("A one-time enrollment token for the device, for lenders whose enrollment policy is EnrollmentToken: print `qrSvg` at the " +
                             "point of sale; the phone scans it during setup. Issuing a new one revokes the device's unspent tokens. Shown once.");
        return app;
    }

    private static async Task<Results<Created<EnrollmentTokenView>, ProblemHttpResult>> Issue(Guid deviceId, ClaimsPrincipal user, HttpRequest request,
        EnrollmentTokenIssuer tokens, LienDb db, IOptions<ProvisioningOptions> provisioning, CancellationToken ct)
    {
        switch (await tokens.IssueAsync(user.LenderId(), deviceId, user.Actor(), ct))
        {
            case TokenOutcome.Issued(var device, var token, var expires):
                var lender = await db.Lenders.AsNoTracking().FirstAsync(l => l.Id == device.LenderId, ct);
                var active = await SigningKeys.ActiveAsync(db, lender.Id, ct);
                var pinned = lender.TrustKeys().FirstOrDefault(k => k.Kid == active.Kid);
                var payload = Provisioning.Payload(provisioning.Value, $"{request.Scheme}://{request.Host}", lender.Id, token, pinned);
                return TypedResults.Created($"/v1/devices/{deviceId}", new EnrollmentTokenView(deviceId, token, expires, payload, Provisioning.Svg(payload)));
            case TokenOutcome.Released:
                return Problems.Conflict("The device is released; a released phone needs no enrollment.");
            default:
                return Problems.NotFound("device");
        }
    }
}
