using System.Security.Claims;
using Lien.Server.Api;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lien.Server.Reports;

/// <summary>The portfolio figures the console's dashboard draws, for lender engineers (viewer keys and above).</summary>
internal static class ReportEndpoints
{
    public static IServiceCollection AddReports(this IServiceCollection services) => services.AddScoped<PortfolioReports>();

    public static IEndpointRouteBuilder MapReports(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/v1/reports").WithTags("Reports").RequireAuthorization(Roles.Viewer);
        g.MapGet("/dashboard", async (ClaimsPrincipal user, PortfolioReports reports, CancellationToken ct) =>
                TypedResults.Ok(await reports.DashboardAsync(user.LenderId(), ct)))
            .WithDescription("Every dashboard figure at once: devices by state, overdue aging, PAR30/PAR90 weekly, collection rate weekly, payments per day, unlock latency (24 h), open disputes.");
        g.MapGet("/devices-by-state", async Task<Ok<DevicesByState>> (ClaimsPrincipal user, PortfolioReports reports, CancellationToken ct) =>
            TypedResults.Ok(await reports.DevicesAsync(user.LenderId(), ct)));
        g.MapGet("/aging", async (ClaimsPrincipal user, PortfolioReports reports, CancellationToken ct) =>
            TypedResults.Ok((await reports.DashboardAsync(user.LenderId(), ct)).Aging));
        g.MapGet("/par", async (ClaimsPrincipal user, PortfolioReports reports, CancellationToken ct) =>
            TypedResults.Ok((await reports.DashboardAsync(user.LenderId(), ct)).Par));
        g.MapGet("/collections", async (ClaimsPrincipal user, PortfolioReports reports, CancellationToken ct) =>
            TypedResults.Ok((await reports.DashboardAsync(user.LenderId(), ct)).Collections));
        g.MapGet("/payments-per-day", async (ClaimsPrincipal user, PortfolioReports reports, CancellationToken ct) =>
            TypedResults.Ok((await reports.DashboardAsync(user.LenderId(), ct)).Payments));
        g.MapGet("/unlock-latency", async (ClaimsPrincipal user, PortfolioReports reports, TimeProvider time, CancellationToken ct) =>
            TypedResults.Ok(await reports.LatencyAsync(user.LenderId(), time.GetUtcNow(), ct)));
        return app;
    }
}
