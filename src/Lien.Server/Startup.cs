using Lien.Server.Audit;
using Lien.Server.Demo;
using Lien.Server.Devices;
using Lien.Server.Leases;
using Lien.Server.Scheduling;

namespace Lien.Server;

internal static class Startup
{
    /// <summary>The services every capability shares: the audit trail, lease issuing, device registration, time.</summary>
    public static IServiceCollection AddLienCore(this IServiceCollection services)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<LeaseSigner>();
        services.AddScoped<AuditTrail>();
        services.AddScoped<LeaseIssuer>();
        services.AddScoped<DeviceRegistry>();
        return services;
    }

    public static IServiceCollection AddScheduling(this IServiceCollection services, IConfiguration config)
    {
        services.Configure<ReviewOptions>(config.GetSection("Lien:Review"));
        services.AddSingleton<ReviewService>();
        services.AddHostedService(sp => sp.GetRequiredService<ReviewService>());
        return services;
    }

    public static async Task AnnounceDemoAsync(this IServiceProvider services, WebApplication app)
    {
        var dataDir = Path.GetFullPath(app.Configuration["Lien:DataDir"] ?? Path.Combine(app.Environment.ContentRootPath, "data"));
        var token = await DemoSeed.RunAsync(services, dataDir);
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var url = app.Urls.FirstOrDefault() ?? "http://localhost:5000";
            Console.WriteLine($"""

                Lien demo is running at {url}
                  API reference:   {url}/reference
                  Demo lender:     {DemoSeed.LenderName}
                  Admin API key:   {token}
                  Try:             curl -H "Authorization: Bearer {token}" {url}/v1/devices

                """);
        });
    }
}
