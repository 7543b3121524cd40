using Lien.Server.Storage;

namespace Lien.Server.Lenders;

/// <summary>
/// The operator's command for a lender that has no API key yet:
/// <c>Lien.Server lenders create --name NAME --currency KES --time-zone Africa/Nairobi [--support-phone …] [--short-code …]
/// [--support-url …] [--logo-url …] [--policy standard] [--offline-allowance-hours 168]</c>. Prints the admin key once.
/// </summary>
internal static class LenderCommand
{
    public static async Task<int> RunAsync(IServiceProvider services, string[] args, TextWriter output, TextWriter error)
    {
        if (args is not ["create", .. var rest])
        {
            await error.WriteLineAsync("usage: lenders create --name NAME --currency CODE --time-zone ZONE [--support-phone P] [--short-code C] [--support-url U] [--logo-url U] [--policy standard] [--offline-allowance-hours H]");
            return 2;
        }
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < rest.Length; i += 2)
        {
            if (!rest[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= rest.Length)
            {
                await error.WriteLineAsync($"Expected '--option value' pairs; '{rest[i]}' has no value or is not an option.");
                return 2;
            }
            values[rest[i][2..]] = rest[i + 1];
        }
        var known = new[] { "name", "currency", "time-zone", "support-phone", "short-code", "support-url", "logo-url", "policy", "offline-allowance-hours" };
        if (values.Keys.FirstOrDefault(k => !known.Contains(k)) is { } unknown)
        {
            await error.WriteLineAsync($"Unknown option --{unknown}. Known: {string.Join(", ", known.Select(k => "--" + k))}.");
            return 2;
        }
        int? hours = null;
        if (values.TryGetValue("offline-allowance-hours", out var h))
        {
            if (!int.TryParse(h, out var parsed)) { await error.WriteLineAsync("--offline-allowance-hours must be a whole number."); return 2; }
            hours = parsed;
        }
        var settings = new LenderSettings(values.GetValueOrDefault("name"), values.GetValueOrDefault("logo-url"), values.GetValueOrDefault("support-phone"),
            values.GetValueOrDefault("short-code"), values.GetValueOrDefault("support-url"), values.GetValueOrDefault("time-zone"),
            values.GetValueOrDefault("currency"), values.GetValueOrDefault("policy") ?? "standard", hours);
        var errors = settings.Validate(creating: true);
        if (errors.Any)
        {
            await error.WriteLineAsync(errors.Problem().ProblemDetails.Detail);
            return 2;
        }
        await using var scope = services.CreateAsyncScope();
        var sp = scope.ServiceProvider;
        var db = sp.GetRequiredService<LienDb>();
        var setup = sp.GetRequiredService<LenderSetup>();
        var (lender, token) = await db.InTransactionAsync(() => setup.CreateAsync(settings, "operator-command"));
        await output.WriteLineAsync($"Created lender {lender.Name} ({lender.Id}).");
        await output.WriteLineAsync($"Admin API key (shown once; store it now): {token}");
        return 0;
    }
}
