using Lien.Server.Mpesa;
using Lien.Server.Mpesa.Sandbox;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Demo;

internal static class DemoExtensions
{
    /// <summary>Seeds the demo lender, devices and plans, and prints where to look once the server listens.</summary>
    public static async Task AnnounceDemoAsync(this WebApplication app)
    {
        var token = await DemoSeed.RunAsync(app.Services);
        var payPath = await DemoSeed.LockedPhonePayPathAsync(app.Services);
        var (consoleUser, consolePassword) = await DemoSeed.ConsoleLoginAsync(app.Services);
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var url = (app.Urls.FirstOrDefault() ?? "http://localhost:5000").TrimEnd('/');
            // M-Pesa through the stand-in the demo maps into itself, now that its address is known.
            var locked = UseDaraja(app.Services, url).GetAwaiter().GetResult();
            System.Console.WriteLine($"""

                Lien demo is running at {url}
                  API reference:   {url}/reference
                  Demo lender:     {DemoSeed.LenderName}
                  Admin API key:   {token}
                  Try:             curl -H "Authorization: Bearer {token}" {url}/v1/devices
                  Console:         {url}/console — user {consoleUser}, password {consolePassword} (two-factor is off for this demo user: turn it on under Account)
                  Enrollment:      open — {Lenders.EnrollmentPolicies.OpenWarning}
                  M-Pesa:          a STAND-IN for Daraja at {url}{DemoSeed.SandboxPrefix} (no money moves); pay the locked phone's plan with
                                   curl -H "Authorization: Bearer {token}" -H "Content-Type: application/json" -d '{"{"}"phone":"+254708374149","amount":362500{"}"}' {url}/v1/plans/{locked}/mpesa/stk-push
                                   and it unlocks about 3 s later (watch it with `lien simulate --watch`).
                  Pay page:        {url}{payPath} (the locked demo phone's, {DemoSeed.LockedPhoneImei}: lien simulate --watch {DemoSeed.LockedPhoneImei})

                """);
        });
    }

    // The demo lender's M-Pesa settings point at the in-process stand-in, and its C2B URLs are registered there.
    private static async Task<Guid?> UseDaraja(IServiceProvider services, string url)
    {
        services.GetRequiredService<DarajaSandbox>().AddApp(DarajaSandbox.DemoConsumerKey, DarajaSandbox.DemoConsumerSecret, DarajaSandbox.DemoShortCode,
            DarajaSandbox.DemoPasskey);
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LienDb>();
        var lender = await db.Lenders.AsNoTracking().FirstAsync(l => l.Name == DemoSeed.LenderName);
        var accounts = scope.ServiceProvider.GetRequiredService<MpesaAccounts>();
        await accounts.SetAsync(lender.Id, new MpesaSettingsInput(DarajaSandbox.DemoShortCode, DarajaSandbox.DemoConsumerKey, DarajaSandbox.DemoConsumerSecret,
            DarajaSandbox.DemoPasskey, $"{url}{DemoSeed.SandboxPrefix}/", url, null, null, null), "demo", default);
        await accounts.RegisterUrlsAsync(lender.Id, "demo", default);
        return await db.Plans.AsNoTracking().Where(p => p.Reference == DemoSeed.LockedPlanReference).Select(p => (Guid?)p.Id).FirstOrDefaultAsync();
    }
}
