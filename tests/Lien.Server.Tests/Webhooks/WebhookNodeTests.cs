using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;

namespace Lien.Server.Tests.Webhooks;

/// <summary>Two real server processes on one PostgreSQL database, both sending webhooks.</summary>
public sealed class WebhookNodeTests
{
    [Fact]
    public async Task TwoNodes_EndpointMadeOnA_PaymentOnBDeliveredOnceWithoutWaitingForTheCopyToExpire()
    {
        await using var receiver = new WebhookReceiver();
        await receiver.StartAsync();
        await using var nodes = await ServerProcesses.CreateAsync();
        // A copy of a lender's endpoints that would outlive the test: only the announcement can make node B read them again.
        nodes.Environment["Lien__Webhooks__SubscriptionCacheTtl"] = "01:00:00";
        var (_, nodeA) = await nodes.StartNodeAsync();
        var (_, nodeB) = await nodes.StartNodeAsync();
        var token = await nodes.CreateLenderAsync("Two Node Lender");
        HttpClient Admin(HttpClient node)
        {
            var c = new HttpClient { BaseAddress = node.BaseAddress };
            c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            return c;
        }
        var (adminA, adminB) = (Admin(nodeA), Admin(nodeB));

        var device = await adminB.RegisterAsync();
        var today = Policy.LocalDate(TimeProvider.System.GetUtcNow(), TimeZoneInfo.FindSystemTimeZoneById("Africa/Nairobi"));
        var plan = await adminB.PlanAsync(device.Id(), today.AddDays(20));
        await (await adminB.PayAsync(plan.Id(), 1_00)).Json(HttpStatusCode.Created); // node B now holds "no endpoints"

        var path = receiver.NewPath("nodes");
        await (await adminA.PostAsJsonAsync("/v1/webhooks/endpoints", new { url = receiver.UrlOf(path), eventTypes = new[] { "payment.recorded" } }))
            .Json(HttpStatusCode.Created);
        // The announcement reaches node B within moments; pay on B until a payment is delivered (a hang guard, not a timing claim).
        var waited = System.Diagnostics.Stopwatch.StartNew();
        var payments = 0;
        while (receiver.At(path).Count == 0 && waited.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (payments < 20)
            {
                await (await adminB.PayAsync(plan.Id(), 1_00)).Json(HttpStatusCode.Created);
                payments++;
            }
            await Task.Delay(250);
        }
        Assert.NotEmpty(receiver.At(path));
        // Let both nodes' senders run a few more polls: every delivery arrives once.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var seen = receiver.At(path);
        Assert.Equal(seen.Count, seen.Select(r => r.Id).Distinct().Count());
        Assert.InRange(seen.Count, 1, payments);
    }
}
