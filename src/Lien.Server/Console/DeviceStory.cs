using Lien.Server.Api;
using System.Globalization;
using Lien.Protocol;
using Lien.Server.Devices;
using Lien.Server.Disputes;
using Lien.Server.Lenders;
using Lien.Server.Payments;
using Lien.Server.Plans;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Console;

/// <summary>One line of a device's story.</summary>
internal sealed record StoryEntry(DateTimeOffset At, string Kind, string Text, string? Who = null);

/// <summary>A device as the console shows it: the device, its lender, its plans (newest first), its open dispute and its whole story.</summary>
internal sealed record DeviceFile(Device Device, Lender Lender, IReadOnlyList<Plan> Plans, Dispute? OpenDispute, IReadOnlyList<StoryEntry> Story)
{
    public Plan? Active => Plans.FirstOrDefault(p => p.Lifecycle == PlanLifecycle.Active);
}

/// <summary>
/// Reads one device's whole story for its lender — registration, plans, payments, leases (seq, mode, when applied),
/// notices and their delivery, codes, disputes and every audit event about the device or its plans — newest first.
/// Another lender's device is not found.
/// </summary>
internal sealed class DeviceStory(LienDb db)
{
    public async Task<DeviceFile?> ReadAsync(Guid lenderId, Guid deviceId, CancellationToken ct)
    {
        var device = await db.Devices.AsNoTracking().FirstOrDefaultAsync(d => d.Id == deviceId && d.LenderId == lenderId, ct);
        if (device is null) return null;
        var lender = await db.Lenders.AsNoTracking().FirstAsync(l => l.Id == lenderId, ct);
        var plans = await db.Plans.AsNoTracking().Include(p => p.Installments)
            .Where(p => p.DeviceId == deviceId && p.LenderId == lenderId).OrderByDescending(p => p.CreatedAt).ToListAsync(ct);
        var planIds = plans.Select(p => p.Id).ToList();
        var payments = await db.Payments.AsNoTracking().Where(p => p.LenderId == lenderId && planIds.Contains(p.PlanId)).ToListAsync(ct);
        var leases = await db.Leases.AsNoTracking().Where(l => l.DeviceId == deviceId && l.LenderId == lenderId).OrderByDescending(l => l.Seq).Take(200).ToListAsync(ct);
        var sms = await db.SmsMessages.AsNoTracking().Where(m => m.DeviceId == deviceId && m.LenderId == lenderId).ToListAsync(ct);
        var codes = await db.IssuedCodes.AsNoTracking().Where(c => c.DeviceId == deviceId && c.LenderId == lenderId).ToListAsync(ct);
        var disputes = await db.Set<Dispute>().AsNoTracking().Where(d => d.DeviceId == deviceId && d.LenderId == lenderId).ToListAsync(ct);
        var subjects = planIds.Select(id => $"plan:{id}").Append($"device:{deviceId}").ToList();
        var audit = await db.AuditEvents.AsNoTracking().Where(e => e.LenderId == lenderId && subjects.Contains(e.Subject))
            .OrderByDescending(e => e.Id).Take(300).ToListAsync(ct);

        var story = new List<StoryEntry> { new(device.CreatedAt, "Registered", $"IMEI {string.Join(", ", device.Imeis)}") };
        if (device.EnrolledAt is { } enrolled) story.Add(new(enrolled, "Enrolled", device.EnrolledWith ?? "enrolled"));
        foreach (var p in plans)
        {
            story.Add(new(p.CreatedAt, "Plan opened", $"{p.Reference}: {new Money(p.Price, p.Currency)}, {p.Installments.Count} installments{(p.Backdated ? ", backdated" : "")}"));
            if (p.ClosedAt is { } closed) story.Add(new(closed, "Plan closed", $"{p.Reference}: {p.Lifecycle}{(p.CloseReason is { } r ? " — " + r : "")}"));
        }
        story.AddRange(payments.Select(p => new StoryEntry(p.ReceivedAt, p.Kind == PaymentKind.Reversal ? "Payment reversed" : "Payment",
            $"{new Money(p.Amount, p.Currency)} via {p.Provider} ({p.ProviderTransactionId}){(p.Reason is { } r ? " — " + r : "")}", p.Actor)));
        story.AddRange(leases.Select(l => new StoryEntry(l.CreatedAt, "Lease",
            $"seq {l.Seq}: {l.Mode}{(l.UnlockedUntil is { } u ? $" until {Iso(u)}" : "")} — {l.Reason} ({l.Cause}); "
            + (l.AppliedAt is { } a ? $"applied {Iso(a)}" : "not applied yet"))));
        story.AddRange(sms.Select(m => new StoryEntry(m.CreatedAt, "Notice SMS",
            $"{m.Kind} to {Phones.Masked(m.To)}: {m.Status}{(m.DeliveredAt is { } d ? $", delivered {Iso(d)}" : m.SentAt is { } s ? $", sent {Iso(s)}" : "")}")));
        story.AddRange(codes.Select(c => new StoryEntry(c.IssuedAt, "Code issued", $"{c.Type} {c.Value} — {c.Reason}", c.Actor)));
        foreach (var d in disputes)
        {
            story.Add(new(d.OpenedAt, "Dispute opened", $"{d.Kind}{(d.Text is { } t ? ": " + t : "")}", d.OpenedBy));
            if (d.ClosedAt is { } closed) story.Add(new(closed, $"Dispute {d.State.ToString().ToLowerInvariant()}", d.Resolution ?? "", d.ClosedBy));
        }
        story.AddRange(audit.Select(e => new StoryEntry(e.At, "Audit", $"{e.Action}{(e.Reason is { } r ? " — " + r : "")}", e.Actor)));
        return new DeviceFile(device, lender, plans, disputes.FirstOrDefault(d => d.State == DisputeState.Open),
            story.OrderByDescending(s => s.At).ToList());
    }

    public static string Iso(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
