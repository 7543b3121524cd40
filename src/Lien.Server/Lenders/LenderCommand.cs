using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Lenders;

/// <summary>
/// The operator's command for a lender that has no API key yet:
/// <c>Lien.Server lenders create --name NAME --currency KES --time-zone Africa/Nairobi [--support-phone …] [--short-code …]
/// [--support-url …] [--logo-url …] [--policy standard] [--offline-allowance-hours 168]
/// [--enrollment attested|enrollment-token|open]</c> (enrollment defaults to attested). Prints the admin key once.
/// Its arguments are checked whole by <see cref="Parse"/> before the host is built, so a refused command writes nothing.
/// </summary>
internal sealed class LenderCommand(LenderSettings settings)
{
    private const string Usage = "usage: lenders create --name NAME --currency CODE --time-zone ZONE [--support-phone P] [--short-code C] [--support-url U] [--logo-url U] [--policy standard] [--offline-allowance-hours H] [--enrollment attested|enrollment-token|open]";
    private static readonly string[] Known = ["name", "currency", "time-zone", "support-phone", "short-code", "support-url", "logo-url", "policy", "offline-allowance-hours", "enrollment"];

    /// <summary>The command, or null after one line on <paramref name="error"/> saying what is wrong (exit code 2).</summary>
    public static LenderCommand? Parse(string[] args, TextWriter error)
    {
        if (args is not ["create", .. var rest]) return Refuse(error, Usage);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < rest.Length; i += 2)
        {
            if (!rest[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= rest.Length)
                return Refuse(error, $"Expected '--option value' pairs; '{rest[i]}' has no value or is not an option.");
            values[rest[i][2..]] = rest[i + 1];
        }
        if (values.Keys.FirstOrDefault(k => !Known.Contains(k)) is { } unknown)
            return Refuse(error, $"Unknown option --{unknown}. Known: {string.Join(", ", Known.Select(k => "--" + k))}.");
        int? hours = null;
        if (values.TryGetValue("offline-allowance-hours", out var h))
        {
            if (!int.TryParse(h, out var parsed)) return Refuse(error, "--offline-allowance-hours must be a whole number.");
            hours = parsed;
        }
        EnrollmentPolicy? enrollment = null;
        if (values.TryGetValue("enrollment", out var e) && (enrollment = EnrollmentPolicies.FromCommandName(e)) is null)
            return Refuse(error, "--enrollment must be attested (hardware key attestation with the IMEI attested), enrollment-token (a one-time token from the provisioning QR code) or open (development and demos only).");
        var settings = new LenderSettings(values.GetValueOrDefault("name"), values.GetValueOrDefault("logo-url"), values.GetValueOrDefault("support-phone"),
            values.GetValueOrDefault("short-code"), values.GetValueOrDefault("support-url"), values.GetValueOrDefault("time-zone"),
            values.GetValueOrDefault("currency"), values.GetValueOrDefault("policy") ?? "standard", hours,
            EnrollmentPolicy: enrollment);
        var errors = settings.Validate(creating: true);
        return errors.Any ? Refuse(error, errors.Problem().ProblemDetails.Detail!) : new LenderCommand(settings);
    }

    /// <summary>Parses and runs in one go: what a test of the command calls.</summary>
    public static async Task<int> RunAsync(IServiceProvider services, string[] args, TextWriter output, TextWriter error) =>
        Parse(args, error) is { } command ? await command.RunAsync(services, output, error) : 2;

    /// <summary>Creates the lender: exit code 0, or 1 when the master key is not the one this database's secrets were sealed with.</summary>
    public async Task<int> RunAsync(IServiceProvider services, TextWriter output, TextWriter error)
    {
        await using var scope = services.CreateAsyncScope();
        var sp = scope.ServiceProvider;
        var db = sp.GetRequiredService<LienDb>();
        if (!await MasterKeyCheck.FitsAsync(db, sp.GetRequiredService<SecretBox>()))
        {
            // A lender sealed under another key would be made, and no server using the database's key could sign its leases.
            await error.WriteLineAsync("The master key (Lien:MasterKey, or master.key in the data folder) is not the key this database's secrets were sealed with; no lender was created. Run with the database's own master key.");
            return 1;
        }
        var (lender, token) = await db.InTransactionAsync(() => sp.GetRequiredService<LenderSetup>().CreateAsync(settings, "operator-command"));
        await output.WriteLineAsync($"Created lender {lender.Name} ({lender.Id}).");
        await output.WriteLineAsync($"Admin API key (shown once; store it now): {token}");
        await output.WriteLineAsync($"Enrollment: {lender.EnrollmentPolicy.CommandName()}" + (lender.EnrollmentPolicy == EnrollmentPolicy.Open ? $" — {EnrollmentPolicies.OpenWarning}" : ""));
        return 0;
    }

    private static LenderCommand? Refuse(TextWriter error, string line)
    {
        error.WriteLine(line);
        return null;
    }
}
