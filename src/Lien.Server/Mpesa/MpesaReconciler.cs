using Microsoft.Extensions.Options;

namespace Lien.Server.Mpesa;

/// <summary>M-Pesa settings of the server (<c>Lien:Mpesa</c>).</summary>
internal sealed class MpesaOptions
{
    /// <summary>How often the reconciler looks for STK pushes whose callback never came; zero turns it off on this node.</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long an STK push may stay without its callback before its status is asked for (and between two asks).</summary>
    public TimeSpan StatusQueryAfter { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>
    /// How long a request may stay pending, asked about again and again, before Lien stops asking and ends it as failed
    /// ("no answer from M-Pesa"); a payment M-Pesa reports for it later is still recorded.
    /// </summary>
    public TimeSpan GiveUpAfter { get; set; } = TimeSpan.FromHours(24);
}

/// <summary>
/// Recovers STK pushes whose callback never came: every <see cref="MpesaOptions.ReconcileInterval"/> it asks Daraja's
/// Transaction Status for each request pending longer than <see cref="MpesaOptions.StatusQueryAfter"/>; the result
/// callback then records the payment (or ends the request) through <see cref="MpesaPayments"/>.
/// </summary>
internal sealed class MpesaReconciler(IServiceScopeFactory scopes, TimeProvider time, IOptions<MpesaOptions> options, ILogger<MpesaReconciler> log)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.ReconcileInterval;
        if (interval <= TimeSpan.Zero) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, stoppingToken);
                await ReconcileAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is Microsoft.EntityFrameworkCore.DbUpdateException or System.Data.Common.DbException or InvalidOperationException or TimeoutException)
            {
                log.LogError(e, "M-Pesa reconciliation failed; retrying after the interval.");
            }
        }
    }

    /// <summary>Asks for the status of every stale request now; returns how many were asked about.</summary>
    public async Task<int> ReconcileAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<MpesaPayments>().QueryStaleAsync(options.Value.StatusQueryAfter, options.Value.GiveUpAfter, ct);
    }
}
