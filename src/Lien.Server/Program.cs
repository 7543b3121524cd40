using Lien.Server.AgentApi;
using Lien.Server.Borrower;
using Lien.Server.Api;
using Lien.Server.Audit;
using Lien.Server.Certificates;
using Lien.Server.Codes;
using Lien.Server.Console;
using Lien.Server.Demo;
using Lien.Server.DeviceTrust;
using Lien.Server.Devices;
using Lien.Server.Disputes;
using Lien.Server.Interventions;
using Lien.Server.Leases;
using Lien.Server.Lenders;
using Lien.Server.LienCheck;
using Lien.Server.Mpesa;
using Lien.Server.Mpesa.Sandbox;
using Lien.Server.Notices;
using Lien.Server.Payments;
using Lien.Server.Plans;
using Lien.Server.Push;
using Lien.Server.Readiness;
using Lien.Server.Reports;
using Lien.Server.Scheduling;
using Lien.Server.Storage;
using Lien.Server.UnmatchedPayments;
using Lien.Server.Ussd;
using Lien.Server.Webhooks;
using Microsoft.AspNetCore.Connections;
using Scalar.AspNetCore;

// Lien's own switches are taken off before the host reads the rest as configuration.
var demo = args.Contains("--demo");
// `lenders …` is checked whole before anything is built: a refused command leaves no data folder, key or database behind.
LenderCommand? command = null;
if (args is ["lenders", .. var commandArgs] && (command = LenderCommand.Parse(commandArgs, Console.Error)) is null) return 2;
var app = Build(command is null ? args.Where(a => a != "--demo").ToArray() : [], demo ? [new(DemoSeed.Setting, "true")] : null);
if (command is null && ListenAddresses.FirstInUse(app.Configuration) is { } taken) return AddressInUse(taken);
await app.Services.MigrateStorageAsync();
if (command is not null) return await command.RunAsync(app.Services, Console.Out, Console.Error);
if (!await MasterKeyCheck.FitsAsync(app.Services))
{
    // Under another key the server could open none of the database's secrets: one line, not a stack trace, nothing served.
    await Console.Error.WriteLineAsync("Lien could not start: the master key (Lien:MasterKey, or master.key in the data folder) is not the key this database's secrets were sealed with. Start it with the database's own master key.");
    return 1;
}
// A setting that cannot work stops the start with one line (a trusted-roots file that cannot be read would fail every
// attested enrollment: one line now, not a 500 later).
if ((AttestationCheck.SettingsProblem(app.Services) ?? WarmUp.SettingsProblem(app.Configuration) ?? StorageExtensions.ThreadsProblem(app.Configuration)
    ?? ApiKeyCache.SettingsProblem(app.Configuration) ?? PublicUrls.SettingsProblem(app.Configuration)
    ?? AfricasTalkingCallback.SettingsProblem(app.Configuration))
    is { } settingsProblem)
{
    await Console.Error.WriteLineAsync($"Lien could not start: {settingsProblem}");
    return 1;
}
await LoadKeysAsync(app.Services);
if (demo) await app.AnnounceDemoAsync();
// Before it listens, the server runs its hot paths on a throwaway server of its own (Lien:WarmUp), so its first
// borrowers do not wait for the JIT and EF's query compiler.
await WarmUp.RunAsync(app, async settings =>
{
    var throwaway = Build([], settings);
    await throwaway.Services.MigrateStorageAsync();
    await LoadKeysAsync(throwaway.Services);
    return throwaway;
});

try
{
    await app.RunAsync();
}
catch (IOException e) when (e.InnerException is AddressInUseException)
{
    return AddressInUse(app.Urls.FirstOrDefault() ?? "its address"); // taken between the check and the start
}
return 0;

// The whole server, services and routes: the one that serves and the warm-up's throwaway one are built alike.
static WebApplication Build(string[] args, IEnumerable<KeyValuePair<string, string?>>? settings = null)
{
    // Settings are read once, at the start: reloading them on change would watch the content root and every folder
    // under it — the data folder with the SQLite file among them by default — so each write to the database's log woke a
    // watcher thread (5-8 % of the server's CPU under the payments bench when its data folder was under the content root).
    var builder = WebApplication.CreateBuilder([.. args, $"--{ReloadSettingsOnChange}=false"]);
    if (settings is not null) builder.Configuration.AddInMemoryCollection(settings);
    builder.Services.AddSingleton(TimeProvider.System);
    builder.Services.AddStorage(builder.Configuration, builder.Environment);
    builder.Services.AddProblems();
    builder.Services.ConfigureHttpJsonOptions(o => Json.Configure(o.SerializerOptions));
    builder.Services.AddOpenApi();
    builder.Services.AddAudit(builder.Configuration);
    builder.Services.AddLenders();
    builder.Services.AddDevices();
    builder.Services.AddPlans();
    builder.Services.AddPayments();
    builder.Services.AddLeases();
    builder.Services.AddDisputes();
    builder.Services.AddInterventions();
    builder.Services.AddCodes();
    builder.Services.AddCertificates();
    builder.Services.AddLienCheck();
    builder.Services.AddDeviceTrust(builder.Configuration);
    builder.Services.AddAgentApi(builder.Configuration);
    builder.Services.AddPush(builder.Configuration);
    builder.Services.AddScheduling(builder.Configuration);
    builder.Services.AddWebhooks(builder.Configuration);
    builder.Services.AddNotices(builder.Configuration);
    builder.Services.AddUnmatchedPayments();
    builder.Services.AddMpesa(builder.Configuration);
    builder.Services.AddBorrower();
    builder.Services.AddUssd(builder.Configuration);
    builder.Services.AddReports();
    builder.Services.AddConsole();

    var app = builder.Build();
    app.UseExceptionHandler();
    app.UseStatusCodePages();
    app.UseConsoleHeaders();
    app.UseAuthentication();
    app.UseAuthorization();

    app.MapOpenApi("/openapi/{documentName}.json");
    app.MapScalarApiReference("/reference");
    app.MapGet("/", () => Results.Redirect("/reference")).ExcludeFromDescription();
    app.MapReadiness();
    app.MapLenders();
    app.MapDevices();
    app.MapPlans();
    app.MapPayments();
    app.MapLeases();
    app.MapDisputes();
    app.MapInterventions();
    app.MapCodes();
    app.MapCertificates();
    app.MapLienCheck();
    app.MapAudit();
    app.MapDeviceTrust();
    app.MapAgentApi();
    app.MapWebhooks();
    app.MapNotices();
    app.MapUnmatchedPayments();
    app.MapMpesa();
    // The Daraja stand-in, in demo mode only: the demo lender's M-Pesa points at it, so a payment completes with no Safaricom.
    if (app.Configuration.GetValue<bool>(DemoSeed.Setting)) app.MapDarajaSandbox(DemoSeed.SandboxPrefix);
    app.MapPayPage();
    app.MapBorrowerApi();
    app.MapUssd();
    app.MapReports();
    app.MapConsole();
    return app;
}

// The secrets every request may need, read (or made) once at start.
static async Task LoadKeysAsync(IServiceProvider services)
{
    await services.GetRequiredService<DeviceTokens>().LoadAsync(services);
    await services.GetRequiredService<AnswerKeys>().LoadAsync(services);
    await services.GetRequiredService<SigningKeys>().PublishMissingAsync(services);
}

// Another program holds the port: one line saying so and how to choose another, not a stack trace.
static int AddressInUse(string url)
{
    Console.Error.WriteLine($"Lien could not start: {url} is already in use by another program. Choose another address with --urls, e.g. --urls http://localhost:5081");
    return 1;
}

/// <summary>The server's entry point; public so tests can host it with WebApplicationFactory.</summary>
public partial class Program
{
    /// <summary>The host's setting that, left true, reloads appsettings files when they change (the server sets it false).</summary>
    internal const string ReloadSettingsOnChange = "hostBuilder:reloadConfigOnChange";
}
