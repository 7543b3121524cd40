using Lien.Server.Api;
using Lien.Server.Audit;
using Lien.Server.Leases;
using Lien.Server.Lenders;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Devices;

internal sealed record RegisterDevice(string? Imei, string? Imei2, string? Serial, string? Make, string? Model)
{
    public Errors Validate()
    {
        var errors = new Errors();
        if (Protocol.Imei.Problem(Imei) is { } p1) errors.Add("imei", p1);
        if (!string.IsNullOrEmpty(Imei2))
        {
            if (Protocol.Imei.Problem(Imei2) is { } p2) errors.Add("imei2", p2);
            else if (Imei2 == Imei) errors.Add("imei2", "imei2 must differ from imei.");
        }
        return errors.Text(Serial, "serial", 64).Text(Make, "make", 64).Text(Model, "model", 64);
    }
}

/// <summary>Registers devices one at a time or by the thousand; each gets its first lease in the same transaction.</summary>
internal sealed class DeviceRegistry(LienDb db, LeaseIssuer leases, AuditTrail audit, TimeProvider time)
{
    public sealed record Outcome(int Line, Device? Device, string? Refused);

    private const int FlushEvery = 500;

    /// <summary>
    /// Stores every valid row whose IMEIs are free; the caller owns the transaction. A large batch is written out and
    /// let go of every few hundred rows, inside the same transaction, so memory stays flat; the devices returned for
    /// such a batch are then no longer tracked.
    /// </summary>
    public async Task<List<Outcome>> RegisterAsync(Lender lender, IReadOnlyList<(int Line, RegisterDevice Row)> rows, string actor, CancellationToken ct)
    {
        var wanted = rows.SelectMany(r => new[] { r.Row.Imei, r.Row.Imei2 }).OfType<string>().Where(i => i.Length > 0).Distinct().ToList();
        var taken = new HashSet<string>(StringComparer.Ordinal);
        foreach (var chunk in wanted.Chunk(500))
            taken.UnionWith(await db.DeviceImeis.Where(c => c.ReleasedAt == null && chunk.Contains(c.Imei)).Select(c => c.Imei).ToListAsync(ct));

        var now = time.GetUtcNow();
        var outcomes = new List<Outcome>(rows.Count);
        foreach (var (line, row) in rows)
        {
            var errors = row.Validate();
            if (errors.Any)
            {
                outcomes.Add(new Outcome(line, null, string.Join(" ", errors.Problem().ProblemDetails.Errors.SelectMany(e => e.Value))));
                continue;
            }
            var imeis = string.IsNullOrEmpty(row.Imei2) ? new[] { row.Imei! } : [row.Imei!, row.Imei2];
            if (imeis.FirstOrDefault(taken.Contains) is { } clash)
            {
                outcomes.Add(new Outcome(line, null, $"IMEI {clash} is already registered to a device that has not been released."));
                continue;
            }
            taken.UnionWith(imeis);
            var device = new Device
            {
                Id = Guid.CreateVersion7(now),
                LenderId = lender.Id,
                Imei = row.Imei!,
                Imei2 = string.IsNullOrEmpty(row.Imei2) ? null : row.Imei2,
                Serial = Blank(row.Serial),
                Make = Blank(row.Make),
                Model = Blank(row.Model),
                CreatedAt = now,
            };
            db.Devices.Add(device);
            foreach (var imei in imeis) db.DeviceImeis.Add(new DeviceImei { Imei = imei, DeviceId = device.Id, LenderId = lender.Id });
            await audit.RecordAsync(lender.Id, actor, AuditAction.DeviceRegistered, $"device:{device.Id}", data: new { imeis, device.Serial }, ct: ct);
            await leases.ReviewAsync(device, lender, null, "registered", actor, ct);
            outcomes.Add(new Outcome(line, device, null));
            if (rows.Count > FlushEvery && outcomes.Count % FlushEvery == 0)
            {
                await db.SaveChangesAsync(ct);
                db.ChangeTracker.Clear();
            }
        }
        return outcomes;
    }

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}
