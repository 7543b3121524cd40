namespace Lien.Server.Demo;

internal static class DemoExtensions
{
    /// <summary>Seeds the demo lender, devices and plans, and prints where to look once the server listens.</summary>
    public static async Task AnnounceDemoAsync(this WebApplication app)
    {
        var token = await DemoSeed.RunAsync(app.Services);
        var (consoleUser, consolePassword) = await DemoSeed.ConsoleLoginAsync(app.Services);
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var url = app.Urls.FirstOrDefault() ?? "http://localhost:5000";
            System.Console.WriteLine($"""

                Lien demo is running at {url}
                  API reference:   {url}/reference
                  Demo lender:     {DemoSeed.LenderName}
                  Admin API key:   {token}
                  Try:             curl -H "Authorization: Bearer {token}" {url}/v1/devices
                  Console:         {url}/console — user {consoleUser}, password {consolePassword} (two-factor is off for this demo user: turn it on under Account)
                  Enrollment:      open — {Lenders.EnrollmentPolicies.OpenWarning}

                """);
        });
    }
}
