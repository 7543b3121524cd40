using Microsoft.AspNetCore.Diagnostics;
using Npgsql;

namespace Lien.Server.Storage;

/// <summary>
/// The database is at capacity (every pooled connection in use past the wait, or PostgreSQL refusing more clients):
/// a 503 problem with Retry-After, which a client retries, instead of a 500. Nothing was written.
/// </summary>
internal sealed class DatabaseBusy(IProblemDetailsService problems, ILogger<DatabaseBusy> log) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        if (!IsBusy(exception)) return false;
        log.LogWarning("Database at capacity; answered 503: {Message}", exception.GetBaseException().Message);
        http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        http.Response.Headers.RetryAfter = "1";
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable, Title = "Busy",
                Detail = "The server is at capacity; nothing was recorded. Retry the same request in a moment (it is safe to repeat).",
            },
        });
    }

    public static bool IsBusy(Exception e) => e switch
    {
        PostgresException p => p.SqlState is PostgresErrorCodes.TooManyConnections or PostgresErrorCodes.CannotConnectNow,
        NpgsqlException n when n.Message.Contains("connection pool has been exhausted", StringComparison.OrdinalIgnoreCase) => true,
        _ => e.InnerException is { } inner && IsBusy(inner),
    };
}
