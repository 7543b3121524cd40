using System.Net;
using System.Net.Http.Json;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Lien.Server.Tests.Borrower;

/// <summary>A borrower's plan as the borrower tests start from: an enrolled phone, a plan with a registered number, its pay link.</summary>
public sealed record BorrowerCase(Tenant Lender, Guid DeviceId, string Imei, Guid PlanId, string Reference, string Phone, string PayPath);

public static class BorrowerSetup
{
    /// <summary>
    /// A lender (or <paramref name="lender"/>), an enrolled phone and a plan of three monthly installments of KES 100 from
    /// two days ahead for <paramref name="phone"/>; walked until the phone is locked when <paramref name="locked"/>.
    /// </summary>
    public static async Task<BorrowerCase> NewAsync(LienServer server, string phone = "+254712345678", bool locked = false, Tenant? lender = null,
        string? language = null)
    {
        lender ??= await server.NewLenderAsync(name: "Jua Phones");
        var imei = LenderApi.NewImei();
        var device = await lender.Admin.RegisterAsync(imei);
        await server.Client().EnrollAsync(imei);
        var plan = await (await lender.Admin.PostAsJsonAsync("/v1/plans", new
        {
            deviceId = device.Id(), borrowerReference = "cust-1", borrowerPhone = phone, borrowerLanguage = language, price = 350_00, downPayment = 50_00,
            generate = new { count = 3, frequency = "Monthly", firstDueDate = server.Today.AddDays(2) },
        })).Json(HttpStatusCode.Created);
        if (locked) await server.WalkUntilLockedAsync(device.Id());
        var token = await PayTokenAsync(server, plan.Id());
        return new BorrowerCase(lender, device.Id(), imei, plan.Id(), plan.Str("reference"), phone, $"/p/{token}");
    }

    public static async Task<string> PayTokenAsync(LienServer server, Guid planId)
    {
        await using var scope = server.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<LienDb>().Plans.AsNoTracking().FirstAsync(p => p.Id == planId)).PayToken!;
    }
}
