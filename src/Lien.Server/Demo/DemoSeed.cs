using Lien.Protocol;
using Lien.Server.Devices;
using Lien.Server.Leases;
using Lien.Server.Lenders;
using Lien.Server.Mpesa.Sandbox;
using Lien.Server.Payments;
using Lien.Server.Plans;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Demo;

/// <summary>
/// <c>--demo</c>: a lender with devices in every state worth looking at (current, in grace, locked, paid off, no plan),
/// made through the same code paths as the API. The admin key is kept in the data folder so every start can print it.
/// </summary>
internal static class DemoSeed
{
    public const string LenderName = "Jua Phones (demo)";

    /// <summary>Set (<c>true</c>) when the server runs with <c>--demo</c>: the Daraja stand-in is mapped at <see cref="SandboxPrefix"/>.</summary>
    public const string Setting = "Lien:Demo";
    public const string SandboxPrefix = "/sandbox/daraja";

    /// <summary>The locked demo phone's plan: the one to pay.</summary>
    public const string LockedPlanReference = "LN-DEMO3";

    public static async Task<string> RunAsync(IServiceProvider services, CancellationToken ct = default)
    {
        await using var scope = services.CreateAsyncScope();
        var sp = scope.ServiceProvider;
        var db = sp.GetRequiredService<LienDb>();
        var time = sp.GetRequiredService<TimeProvider>();
        var folder = sp.GetRequiredService<DataFolder>();
        var keyFile = folder.File(DataFolder.DemoKeyFile);
        var lender = await db.Lenders.FirstOrDefaultAsync(l => l.Name == LenderName, ct);
        if (lender is not null && File.Exists(keyFile)) return (await File.ReadAllTextAsync(keyFile, ct)).Trim();

        string token;
        if (lender is null)
        {
            // Open enrollment, so `lien simulate` phones enroll with no attestation or QR code: labelled as such below.
            // A lock window open every hour of every day, so the demo's locked phone is locked whenever the demo starts; a
            // settlement hold of 24 h, so the phone paid off in the seed's review two days ago is released by the one now.
            var settings = new LenderSettings(LenderName, null, "0800 723 000", "*483*7#", null, "Africa/Nairobi", "KES", "standard", 72,
                EnrollmentPolicy: EnrollmentPolicy.Open,
                Policy: new ProfileOverrides(LockWindow: new LockWindowOverrides(0, 24, Enum.GetValues<DayOfWeek>())), SettlementHoldHours: 24, Paybill: DarajaSandbox.DemoShortCode);
            (lender, token) = await db.InTransactionAsync(async () =>
            {
                var created = await sp.GetRequiredService<LenderSetup>().CreateAsync(settings, "demo", ct);
                await SeedDevicesAsync(sp, created.Lender, ct);
                return created;
            }, ct);
        }
        else
        {
            var (id, newToken, hash) = ApiKeyAuthentication.NewKey();
            db.ApiKeys.Add(new ApiKey { Id = id, LenderId = lender.Id, Name = "demo admin key", Role = ApiRole.Admin, SecretHash = hash, CreatedAt = time.GetUtcNow() });
            using (await db.WriteGateAsync(ct))
                await db.SaveChangesAsync(ct);
            token = newToken;
        }
        await folder.WriteAsync(DataFolder.DemoKeyFile, System.Text.Encoding.UTF8.GetBytes(token), ct); // owner-only: it is an admin key
        return token;
    }

    public const string ConsoleUser = "demo-admin";

    /// <summary>The demo lender's console admin (made once, its password kept in the data folder so every start can print it; two-factor off).</summary>
    public static async Task<(string User, string Password)> ConsoleLoginAsync(IServiceProvider services, CancellationToken ct = default)
    {
        await using var scope = services.CreateAsyncScope();
        var sp = scope.ServiceProvider;
        var folder = sp.GetRequiredService<DataFolder>();
        var file = folder.File(DataFolder.DemoConsoleFile);
        var db = sp.GetRequiredService<LienDb>();
        if (File.Exists(file) && await db.Set<Console.ConsoleUser>().AnyAsync(u => u.UserName == ConsoleUser, ct))
            return (ConsoleUser, (await File.ReadAllTextAsync(file, ct)).Trim());
        var lender = await db.Lenders.FirstAsync(l => l.Name == LenderName, ct);
        var password = "demo-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
        var staff = sp.GetRequiredService<Console.ConsoleStaff>();
        var existing = await db.Set<Console.ConsoleUser>().FirstOrDefaultAsync(u => u.UserName == ConsoleUser, ct);
        if (existing is null) await staff.AddWithPasswordAsync(lender.Id, ConsoleUser, Console.ConsoleRole.Admin, password, "demo", ct);
        else await staff.SetPasswordAsync(existing, password, ct);
        await folder.WriteAsync(DataFolder.DemoConsoleFile, System.Text.Encoding.UTF8.GetBytes(password), ct);
        return (ConsoleUser, password);
    }

    private static async Task SeedDevicesAsync(IServiceProvider sp, Lender lender, CancellationToken ct)
    {
        var db = sp.GetRequiredService<LienDb>();
        var registry = sp.GetRequiredService<DeviceRegistry>();
        var leases = sp.GetRequiredService<LeaseIssuer>();
        var time = sp.GetRequiredService<TimeProvider>();
        // The plans' story so far: reviewed as of two days ago (the overdue phone's lock warning), then now (its lock).
        var earlier = ActivatorUtilities.CreateInstance<LeaseIssuer>(sp, new Earlier(time, TimeSpan.FromDays(2)));
        var today = Policy.LocalDate(time.GetUtcNow(), TimeZoneInfo.FindSystemTimeZoneById(lender.TimeZone));
        // (model, first due date relative to today, installments paid)
        (string Model, int FirstDue, int Paid)?[] shapes =
        [
            ("Tecno Spark 20", 12, 0),   // current: first installment in 12 days
            ("Samsung Galaxy A15", -1, 0), // overdue, still within the 3 grace days: unlocked, locks soon
            ("Infinix Hot 40", -9, 0),   // overdue past grace: locked
            ("Nokia G22", -40, 2),       // two paid, current again
            ("itel A70", -100, 4),       // paid off: released
            null,                        // registered, no plan yet
        ];
        var rows = shapes.Select((s, i) => (i + 1, new RegisterDevice(DemoImei(i), null, $"DEMO{i + 1:000}", s?.Model.Split(' ')[0] ?? "Xiaomi", s?.Model ?? "Redmi 13C"))).ToList();
        var outcomes = await registry.RegisterAsync(lender, rows, "demo", ct);
        for (var i = 0; i < shapes.Length; i++)
        {
            if (shapes[i] is not { } shape || outcomes[i].Device is not { } device) continue;
            var schedule = Schedule.Generate(4 * 3_625_00, 4, Frequency.Monthly, today.AddDays(shape.FirstDue));
            var now = time.GetUtcNow();
            var plan = new Plan
            {
                Id = Guid.CreateVersion7(now),
                LenderId = lender.Id,
                DeviceId = device.Id,
                Reference = $"LN-DEMO{i + 1}",
                BorrowerReference = $"customer-{i + 1:000}",
                Price = 4 * 3_625_00 + 2_000_00,
                DownPayment = 2_000_00,
                Currency = "KES",
                Lifecycle = PlanLifecycle.Active,
                CreatedAt = now,
            };
            plan.SetSchedule(schedule);
            db.Plans.Add(plan);
            for (var p = 0; p < shape.Paid; p++)
            {
                var amount = schedule[p].Amount;
                db.Payments.Add(new Payment
                {
                    Id = Guid.CreateVersion7(now),
                    LenderId = lender.Id,
                    PlanId = plan.Id,
                    Kind = PaymentKind.Payment,
                    Amount = amount,
                    Currency = "KES",
                    Provider = "mpesa",
                    ProviderTransactionId = $"DEMO{i + 1}X{p + 1}",
                    ReceivedAt = now,
                    RecordedAt = now,
                    Actor = "demo",
                });
                plan.PaidTotal += amount;
            }
            await earlier.ReviewAsync(device, lender, plan, "demo seed", "demo", ct);
            await db.SaveChangesAsync(ct); // within the seed's transaction: the next review reads the lease it holds
            await leases.ReviewAsync(device, lender, plan, "demo seed", "demo", ct);
        }
    }

    /// <summary>The IMEI of the demo's locked phone (the Infinix Hot 40, plan LN-DEMO3).</summary>
    public static readonly string LockedPhoneImei = DemoImei(2);

    /// <summary>The locked demo phone's pay page (<c>/p/{token}</c>): its plan got its pay link at the seed's review.</summary>
    public static async Task<string> LockedPhonePayPathAsync(IServiceProvider services)
    {
        await using var scope = services.CreateAsyncScope();
        var token = await scope.ServiceProvider.GetRequiredService<LienDb>().Plans.AsNoTracking()
            .Where(p => p.Reference == "LN-DEMO3").Select(p => p.PayToken).FirstOrDefaultAsync();
        return $"/p/{token}";
    }

    private sealed class Earlier(TimeProvider time, TimeSpan by) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => time.GetUtcNow() - by;
    }

    // Valid IMEIs with a demo TAC, so the Luhn rules hold like on real phones.
    private static string DemoImei(int i) => Imei.WithCheckDigit($"35{i + 1:000000000000}");
}
