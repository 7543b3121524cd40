namespace Lien.Server.Push;

internal static class PushExtensions
{
    /// <summary>The push outbox's dispatcher and its FCM client (configured under <c>Lien:Fcm</c> and <c>Lien:Push</c>).</summary>
    public static IServiceCollection AddPush(this IServiceCollection services, IConfiguration config)
    {
        services.Configure<FcmOptions>(config.GetSection("Lien:Fcm"));
        services.Configure<PushOptions>(config.GetSection("Lien:Push"));
        services.AddHttpClient<IPushSender, FcmClient>(c => c.Timeout = TimeSpan.FromSeconds(30));
        services.AddSingleton<PushDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<PushDispatcher>());
        return services;
    }
}
