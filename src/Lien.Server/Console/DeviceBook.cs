using Lien.Server.Api;
using Lien.Protocol;
using Lien.Server.Plans;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Console;

internal enum DeviceStateFilter { Unlocked, Notice, Locked, Released }

internal sealed record DeviceRow(Guid Id, string Imei, string? Make, string? Model, LeaseMode Mode, bool Released, bool Notice,
    string? PlanReference, string? Phone, int DaysPastDue, DateTimeOffset CreatedAt)
{
    public string State => Released || Mode == LeaseMode.Released ? "Released" : Mode == LeaseMode.Locked ? "Locked" : Notice ? "Notice" : "Unlocked";
}

internal sealed record DevicePage(IReadOnlyList<DeviceRow> Rows, int Total, int Page, int PageSize);

/// <summary>
/// The console's device list: search (IMEI, plan reference, the phone's last digits) and filters (state, days past due)
/// done by the database, a page at a time, every query within the signed-in user's lender.
/// </summary>
internal sealed class DeviceBook(LienDb db)
{
    public const int PageSize = 50;

    public async Task<DevicePage> FindAsync(Guid lenderId, DateOnly today, string? search, DeviceStateFilter? state, int? minDaysPastDue, int page, CancellationToken ct)
    {
        var q = from d in db.Devices.AsNoTracking()
                where d.LenderId == lenderId
                join x in db.Leases on new { d.Id, Seq = d.LeaseSeq } equals new { Id = x.DeviceId, x.Seq } into held
                from x in held.DefaultIfEmpty()
                join p in db.Plans.Where(p => p.Lifecycle == PlanLifecycle.Active) on d.Id equals p.DeviceId into plans
                from p in plans.DefaultIfEmpty()
                select new { d, Notice = x != null && x.NoticeJson != null, p };
        if (search is { Length: > 0 } s)
        {
            var digits = s.Length > 0 && s.All(char.IsAsciiDigit);
            var upper = s.ToUpperInvariant();
            // An IMEI through the claims table, whose key starts with the IMEI (either of a dual-SIM phone's): an index seek.
            var byImei = digits && s.Length >= 14
                ? await db.DeviceImeis.AsNoTracking().Where(c => c.Imei == s && c.LenderId == lenderId).Select(c => c.DeviceId).Distinct().ToListAsync(ct)
                : null;
            q = byImei is not null ? q.Where(r => byImei.Contains(r.d.Id))
                : digits && s.Length >= 3 ? q.Where(r => r.p != null && r.p.BorrowerPhone != null && r.p.BorrowerPhone.EndsWith(s))
                : s.StartsWith('+') ? q.Where(r => r.p != null && r.p.BorrowerPhone == s)
                : q.Where(r => r.p != null && r.p.Reference == upper);
        }
        q = state switch
        {
            DeviceStateFilter.Released => q.Where(r => r.d.ReleasedAt != null || r.d.LeaseMode == LeaseMode.Released),
            DeviceStateFilter.Locked => q.Where(r => r.d.ReleasedAt == null && r.d.LeaseMode == LeaseMode.Locked),
            DeviceStateFilter.Notice => q.Where(r => r.d.ReleasedAt == null && r.d.LeaseMode == LeaseMode.Unlocked && r.Notice),
            DeviceStateFilter.Unlocked => q.Where(r => r.d.ReleasedAt == null && r.d.LeaseMode == LeaseMode.Unlocked && !r.Notice),
            _ => q,
        };
        if (minDaysPastDue is { } min and > 0)
        {
            var dueBy = today.AddDays(-min);
            q = q.Where(r => r.p != null && r.p.OldestUnpaidDue != null && r.p.OldestUnpaidDue <= dueBy);
        }
        var total = await q.CountAsync(ct);
        var rows = await q.OrderByDescending(r => r.d.CreatedAt).ThenByDescending(r => r.d.Id).Skip((page - 1) * PageSize).Take(PageSize)
            .Select(r => new
            {
                r.d.Id, r.d.Imei, r.d.Make, r.d.Model, r.d.LeaseMode, Released = r.d.ReleasedAt != null, r.Notice,
                Reference = r.p == null ? null : r.p.Reference, Phone = r.p == null ? null : r.p.BorrowerPhone,
                Oldest = r.p == null ? null : r.p.OldestUnpaidDue, r.d.CreatedAt,
            }).ToListAsync(ct);
        return new DevicePage(rows.Select(r => new DeviceRow(r.Id, r.Imei, r.Make, r.Model, r.LeaseMode, r.Released, r.Notice, r.Reference,
            Phones.Masked(r.Phone), r.Oldest is { } o && o < today ? today.DayNumber - o.DayNumber : 0, r.CreatedAt)).ToList(), total, page, PageSize);
    }
}
