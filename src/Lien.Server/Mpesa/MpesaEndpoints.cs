using System.Security.Claims;
using System.Text.Json;
using Lien.Server.Api;
using Lien.Server.Payments;
using Lien.Server.Mpesa.Sandbox;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lien.Server.Mpesa;

internal sealed record StkPushBody(string? Phone, long? Amount);
internal sealed record StkPushSent(string RequestId, string CustomerMessage);
internal sealed record UrlsRegistered(string ShortCode, string Description);

internal static class MpesaEndpoints
{
    /// <summary>The largest callback body read: Daraja's are a few hundred bytes.</summary>
    public const int MaxCallbackBytes = 64 * 1024;

    /// <summary>M-Pesa: settings, the Daraja client, the payments operation, the reconciler (<c>Lien:Mpesa</c>), and the sandbox when mapped.</summary>
    public static IServiceCollection AddMpesa(this IServiceCollection services, IConfiguration config)
    {
        services.Configure<MpesaOptions>(config.GetSection("Lien:Mpesa"));
        services.AddHttpClient<DarajaClient>(c => c.Timeout = TimeSpan.FromSeconds(30));
        services.AddScoped<MpesaAccounts>();
        services.AddScoped<MpesaPayments>();
        services.AddScoped<IPaymentRequests>(sp => sp.GetRequiredService<MpesaPayments>());
        services.AddSingleton<MpesaReconciler>();
        services.AddHostedService(sp => sp.GetRequiredService<MpesaReconciler>());
        services.AddDarajaSandbox();
        return services;
    }

    public static IEndpointRouteBuilder MapMpesa(this IEndpointRouteBuilder app)
    {
        var settings = app.MapGroup("/v1/lender/mpesa").WithTags("M-Pesa").RequireAuthorization(Roles.Admin);
        settings.MapGet("", Get).WithDescription("The lender's M-Pesa settings: secrets only as whether they are set; the callback URLs carry the path secret.");
        settings.MapPut("", Put).WithDescription("Sets the lender's M-Pesa (Daraja) account; a null field is left as it is. Secrets are sealed at rest and never shown again.");
        settings.MapPost("/path-secret/rotate", Rotate).WithDescription("A new path secret for the callback URLs: the old ones answer 404 at once. Register the URLs again.");
        settings.MapPost("/register-urls", Register).WithDescription("Registers the validation and confirmation URLs with Daraja (C2B register URL).");

        app.MapPost("/v1/plans/{planId:guid}/mpesa/stk-push", StkPush).WithTags("M-Pesa").RequireAuthorization(Roles.Operator)
            .WithDescription("Prompts the borrower's phone to pay (Lipa na M-Pesa Online); the payment is recorded when M-Pesa says it was paid.");
        app.MapGet("/v1/mpesa/requests/{requestId}", Status).WithTags("M-Pesa").RequireAuthorization(Roles.Viewer)
            .WithDescription("Where an STK push stands: Pending, Paid (with its receipt), Cancelled, TimedOut or Failed.");

        // Daraja's callbacks: unsigned, so the path secret (and the lender's allowed sources) are what admit them.
        var callbacks = app.MapGroup("/mpesa/{pathSecret}").WithTags("M-Pesa callbacks").AllowAnonymous().DisableAntiforgery();
        callbacks.MapPost("/c2b/validation", Validation);
        callbacks.MapPost("/c2b/confirmation", Confirmation);
        callbacks.MapPost("/stk", StkCallback);
        callbacks.MapPost("/status/result", StatusResult);
        callbacks.MapPost("/status/timeout", StatusTimeout);
        return app;
    }

    private static async Task<Results<Ok<MpesaSettingsView>, ProblemHttpResult>> Get(ClaimsPrincipal user, MpesaAccounts accounts, CancellationToken ct) =>
        await accounts.GetAsync(user.LenderId(), ct) is { } view ? TypedResults.Ok(view) : Problems.NotFound("The lender has no M-Pesa settings; PUT them first.");

    private static async Task<Results<Ok<MpesaSettingsView>, ValidationProblem>> Put(MpesaSettingsInput body, ClaimsPrincipal user, MpesaAccounts accounts,
        CancellationToken ct)
    {
        var creating = await accounts.GetAsync(user.LenderId(), ct) is null;
        var errors = body.Validate(creating);
        if (errors.Any) return errors.Problem();
        return TypedResults.Ok(await accounts.SetAsync(user.LenderId(), body, user.Actor(), ct));
    }

    private static async Task<Results<Ok<MpesaSettingsView>, ProblemHttpResult>> Rotate(ClaimsPrincipal user, MpesaAccounts accounts, CancellationToken ct) =>
        await accounts.RotatePathSecretAsync(user.LenderId(), user.Actor(), ct) is { } view
            ? TypedResults.Ok(view) : Problems.NotFound("The lender has no M-Pesa settings; PUT them first.");

    private static async Task<Results<Ok<UrlsRegistered>, ProblemHttpResult>> Register(ClaimsPrincipal user, MpesaAccounts accounts, CancellationToken ct) =>
        await accounts.RegisterUrlsAsync(user.LenderId(), user.Actor(), ct) switch
        {
            null => Problems.NotFound("The lender has no M-Pesa settings; PUT them first."),
            DarajaAnswer.Accepted a => TypedResults.Ok(new UrlsRegistered((await accounts.GetAsync(user.LenderId(), ct))!.ShortCode, a.Description)),
            var failed => Upstream(failed),
        };

    private static async Task<Results<Accepted<StkPushSent>, ValidationProblem, ProblemHttpResult>> StkPush(Guid planId, StkPushBody body, ClaimsPrincipal user,
        MpesaPayments payments, CancellationToken ct)
    {
        var errors = new Errors().Text(body.Phone, "phone", 20, required: true).Check(body.Amount is > 0, "amount", "amount must be a positive number of minor units.");
        if (!errors.Any) errors.Check(Phones.Normalize(body.Phone) is not null, "phone", "phone must be a phone number, e.g. +254712345678.");
        if (errors.Any) return errors.Problem();
        return await payments.RequestPaymentAsync(user.LenderId(), planId, body.Phone!, body.Amount!.Value, "api", ct) switch
        {
            StkPushOutcome.Sent(var id, var message) => TypedResults.Accepted($"/v1/mpesa/requests/{id}", new StkPushSent(id, message)),
            StkPushOutcome.NotConfigured => Problems.Conflict("The lender has no M-Pesa settings; PUT /v1/lender/mpesa first."),
            StkPushOutcome.Refused(var message) => Problems.Unprocessable("Cannot request this payment", message),
            StkPushOutcome.ProviderFailed(var message) => TypedResults.Problem(statusCode: 502, title: "M-Pesa failed", detail: message),
            var other => throw new InvalidOperationException($"Unexpected outcome {other}."),
        };
    }

    private static async Task<Results<Ok<MpesaRequestStatus>, ProblemHttpResult>> Status(string requestId, ClaimsPrincipal user, MpesaPayments payments,
        CancellationToken ct) =>
        requestId.Length <= 64 && await payments.StatusAsync(user.LenderId(), requestId, ct) is { } status
            ? TypedResults.Ok(status) : Problems.NotFound("No such M-Pesa request.");

    private static ProblemHttpResult Upstream(DarajaAnswer answer) => TypedResults.Problem(statusCode: 502, title: "M-Pesa failed", detail: answer switch
    {
        DarajaAnswer.Refused r => $"Daraja refused: {r.Message}{(r.ErrorCode is null ? "" : $" ({r.ErrorCode})")}",
        DarajaAnswer.Unreachable u => u.Message,
        _ => "Daraja did not accept the request.",
    });

    private static Task<IResult> Validation(string pathSecret, HttpContext http, MpesaAccounts accounts, MpesaPayments payments, CancellationToken ct) =>
        CallbackAsync(pathSecret, http, accounts, async (lender, body) =>
        {
            var (payment, errors) = C2BPayment.Read(body);
            if (payment is null) return errors.Problem();
            var (code, desc) = await payments.ValidateAsync(lender, payment, ct);
            return Results.Json(new { ResultCode = code, ResultDesc = desc }, AsWritten);
        }, ct);

    private static Task<IResult> Confirmation(string pathSecret, HttpContext http, MpesaAccounts accounts, MpesaPayments payments, CancellationToken ct) =>
        CallbackAsync(pathSecret, http, accounts, async (lender, body) =>
        {
            var (payment, errors) = C2BPayment.Read(body);
            if (payment is null) return errors.Problem();
            return await payments.ConfirmAsync(lender, payment, ct) == ConfirmationResult.BadAmount
                ? new Errors().Add("TransAmount", "TransAmount must be a decimal amount of shillings such as \"1450.00\"; nothing was recorded.").Problem()
                : Accepted;
        }, ct);

    private static Task<IResult> StkCallback(string pathSecret, HttpContext http, MpesaAccounts accounts, MpesaPayments payments, CancellationToken ct) =>
        CallbackAsync(pathSecret, http, accounts, async (lender, body) => await payments.StkCallbackAsync(lender, body, ct)
            ? Accepted
            : TypedResults.Problem(statusCode: 400, title: "Bad callback", detail: "The body is not an STK callback: Body.stkCallback with CheckoutRequestID, ResultCode and, when paid, CallbackMetadata (Amount, MpesaReceiptNumber)."), ct);

    private static Task<IResult> StatusResult(string pathSecret, HttpContext http, MpesaAccounts accounts, MpesaPayments payments, CancellationToken ct) =>
        CallbackAsync(pathSecret, http, accounts, async (lender, body) => await payments.StatusResultAsync(lender, body, ct)
            ? Accepted
            : TypedResults.Problem(statusCode: 400, title: "Bad result", detail: "The body is not a Transaction Status result: Result with ConversationID, ResultCode and ResultParameters."), ct);

    // The query's timeout: nothing to do — the request stays pending and the reconciler asks again.
    private static Task<IResult> StatusTimeout(string pathSecret, HttpContext http, MpesaAccounts accounts, CancellationToken ct) =>
        CallbackAsync(pathSecret, http, accounts, (_, _) => Task.FromResult(Accepted), ct);

    private static readonly JsonSerializerOptions AsWritten = new();
    private static readonly IResult Accepted = Results.Json(new { ResultCode = 0, ResultDesc = "Accepted" }, AsWritten);

    // A callback's common part: its lender by the path secret (a wrong one, or a source not allowed, is the 404 of any
    // unknown address, saying nothing), then its body read as JSON, at most MaxCallbackBytes.
    private static async Task<IResult> CallbackAsync(string pathSecret, HttpContext http, MpesaAccounts accounts, Func<Guid, JsonElement, Task<IResult>> handle,
        CancellationToken ct)
    {
        if (await accounts.CallbackLenderAsync(pathSecret, http.Connection.RemoteIpAddress, ct) is not { } lender)
            return Problems.NotFound("There is nothing at this address.");
        if (!http.Request.HasJsonContentType())
            return TypedResults.Problem(statusCode: 415, title: "Unsupported media type", detail: BadInputHandler.NotJson);
        if (http.Request.ContentLength > MaxCallbackBytes)
            return TypedResults.Problem(statusCode: 413, title: "Too large", detail: $"A callback body is at most {MaxCallbackBytes} bytes.");
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = MaxCallbackBytes;
        JsonElement body;
        try
        {
            using var document = await JsonDocument.ParseAsync(http.Request.Body, default, ct);
            body = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            return TypedResults.Problem(statusCode: 400, title: "Malformed JSON", detail: $"The body is not well-formed JSON: {e.Message}");
        }
        catch (BadHttpRequestException e) when (e.StatusCode == 413)
        {
            return TypedResults.Problem(statusCode: 413, title: "Too large", detail: $"A callback body is at most {MaxCallbackBytes} bytes.");
        }
        return await handle(lender, body);
    }
}
