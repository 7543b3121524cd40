using Lien.Server.AgentApi;
using Lien.Server.Api;
using Lien.Server.Notices;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Lien.Server.Ussd;

internal static class UssdEndpoints
{
    /// <summary>The USSD menu (<c>Lien:Ussd</c>); it answers on the Africa's Talking account's callback token (<c>Lien:Sms:AfricasTalking</c>).</summary>
    public static IServiceCollection AddUssd(this IServiceCollection services, IConfiguration config)
    {
        services.Configure<UssdOptions>(config.GetSection("Lien:Ussd"));
        services.AddScoped<UssdMenu>();
        return services;
    }

    public static IEndpointRouteBuilder MapUssd(this IEndpointRouteBuilder app)
    {
        // Africa's Talking posts each step form-encoded, unsigned: the URL's token (and the optional source allow-list) is the proof.
        app.MapPost("/v1/ussd/africastalking", Callback).WithTags("Borrower").AllowAnonymous().DisableAntiforgery()
            .WithDescription("Africa's Talking's USSD callback (set the service code's callback URL to this with ?token= the configured Lien:Sms:AfricasTalking:CallbackToken). Answers text/plain beginning CON or END.");
        return app;
    }

    private static async Task<IResult> Callback(HttpContext http, [FromQuery] string? token, IOptions<AfricasTalkingOptions> options, UssdMenu menu,
        RateLimits limits, CancellationToken ct)
    {
        var (form, refusal) = await AfricasTalkingCallback.ReadAsync(http, token, options.Value, ct);
        if (form is null) return refusal!;
        var (sessionId, serviceCode, phoneNumber, text) = (form.Field("sessionId"), form.Field("serviceCode"), form.Field("phoneNumber"), form.Field("text"));
        var errors = new Errors().Text(sessionId, "sessionId", 100, required: true).Text(serviceCode, "serviceCode", 32)
            .Text(phoneNumber, "phoneNumber", 24, required: true).Text(text, "text", 500);
        var phone = Phones.Normalize(phoneNumber);
        if (!errors.Any) errors.Check(phone is not null, "phoneNumber", "phoneNumber must be a phone number in E.164, e.g. +254712345678.");
        if (errors.Any) return errors.Problem();
        if (!limits.TryAcquire(RateLimitPolicy.ShortCodePerPhone, phone!, out _)) return Plain("END " + UssdWords.English.TooMany);
        return Plain(await menu.AnswerAsync(sessionId!, phone!, text ?? "", ct));
    }

    private static IResult Plain(string reply) => TypedResults.Text(reply, "text/plain; charset=utf-8");
}
