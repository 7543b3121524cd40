namespace Lien.Server.Readiness;

/// <summary>
/// <c>GET /readyz</c>: 200 once the server serves (after its warm-up, <see cref="WarmUp"/>: it listens only then), 503
/// once it is stopping. For load balancers, orchestrators and the benchmarks, which start their clocks on it.
/// </summary>
internal static class ReadinessEndpoints
{
    public static IEndpointRouteBuilder MapReadiness(this IEndpointRouteBuilder app)
    {
        app.MapGet("/readyz", (IHostApplicationLifetime lifetime) => lifetime.ApplicationStopping.IsCancellationRequested
                ? Results.Text("stopping", statusCode: StatusCodes.Status503ServiceUnavailable)
                : Results.Text("ready"))
            .AllowAnonymous().ExcludeFromDescription();
        return app;
    }
}
