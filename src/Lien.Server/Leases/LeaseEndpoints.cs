using System.Security.Claims;
using System.Text.Json;
using Lien.Protocol;
using Lien.Server.Api;
using Lien.Server.Lenders;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Leases;

internal sealed record LeaseView(long Seq, LeaseMode Mode, DateTimeOffset IssuedAt, DateTimeOffset? UnlockedUntil, string Reason,
    string Cause, string Kid, LockScreen Screen, bool Applied, string Jws, Notice? Notice);

internal static class LeaseEndpoints
{
    /// <summary>Lease issuing: the signer (keys opened once per process) and the issuer (per unit of work).</summary>
    public static IServiceCollection AddLeases(this IServiceCollection services)
    {
        services.AddSingleton<LeaseSigner>();
        services.AddSingleton<PublicUrls>();
        services.AddScoped<LeaseIssuer>();
        services.AddScoped<IRevokedKeyLeases>(sp => sp.GetRequiredService<LeaseIssuer>());
        return services;
    }

    public static IEndpointRouteBuilder MapLeases(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/v1/devices/{deviceId:guid}").WithTags("Leases").RequireAuthorization(Roles.Viewer);
        g.MapGet("/lease", Current);
        g.MapGet("/leases", History);
        return app;
    }

    private static async Task<Results<Ok<LeaseView>, ProblemHttpResult>> Current(Guid deviceId, ClaimsPrincipal user, LienDb db, CancellationToken ct)
    {
        var lenderId = user.LenderId();
        var device = await db.Devices.AsNoTracking().FirstOrDefaultAsync(d => d.Id == deviceId && d.LenderId == lenderId, ct);
        if (device is null) return Problems.NotFound("No such device.");
        var lease = await db.Leases.AsNoTracking().FirstAsync(l => l.DeviceId == deviceId && l.Seq == device.LeaseSeq, ct);
        return TypedResults.Ok(View(lease, device.AppliedSeq));
    }

    private static async Task<Results<Ok<List<LeaseView>>, ProblemHttpResult>> History(Guid deviceId, ClaimsPrincipal user, LienDb db, int? limit, CancellationToken ct)
    {
        var lenderId = user.LenderId();
        var device = await db.Devices.AsNoTracking().FirstOrDefaultAsync(d => d.Id == deviceId && d.LenderId == lenderId, ct);
        if (device is null) return Problems.NotFound("No such device.");
        var rows = await db.Leases.AsNoTracking().Where(l => l.DeviceId == deviceId).OrderByDescending(l => l.Seq).Take(Paging.Limit(limit)).ToListAsync(ct);
        return TypedResults.Ok(rows.Select(l => View(l, device.AppliedSeq)).ToList());
    }

    private static LeaseView View(LeaseRecord l, long appliedSeq) => new(l.Seq, l.Mode, l.IssuedAt, l.UnlockedUntil, l.Reason, l.Cause, l.Kid,
        JsonSerializer.Deserialize<LockScreen>(l.ScreenJson, LeaseClaims.Json)!, appliedSeq >= l.Seq, l.Jws,
        l.NoticeJson is null ? null : JsonSerializer.Deserialize<Notice>(l.NoticeJson, LeaseClaims.Json));
}
