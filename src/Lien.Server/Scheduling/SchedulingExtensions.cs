namespace Lien.Server.Scheduling;

internal static class SchedulingExtensions
{
    /// <summary>The scheduler that reviews each plan at its stored next review instant.</summary>
    public static IServiceCollection AddScheduling(this IServiceCollection services, IConfiguration config)
    {
        services.Configure<ReviewOptions>(config.GetSection("Lien:Review"));
        services.AddSingleton<ReviewService>();
        services.AddHostedService(sp => sp.GetRequiredService<ReviewService>());
        return services;
    }
}
