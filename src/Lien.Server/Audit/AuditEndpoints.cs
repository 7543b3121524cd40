using System.Security.Claims;
using Lien.Server.Api;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Audit;

internal sealed record AuditView(long Seq, DateTimeOffset At, string Actor, string Action, string Subject, string? Reason, string? Policy,
    string? Data, string Hash);
internal sealed record CheckpointView(long Seq, string Hash, DateTimeOffset At, string Jws);
internal sealed record ChainCheck(long Checked, bool Intact, long? BrokenAt, string? Problem, CheckpointView? Checkpoint, long Refused);

internal static class AuditEndpoints
{
    public static IServiceCollection AddAudit(this IServiceCollection services, IConfiguration config)
    {
        services.Configure<AuditOptions>(config.GetSection("Lien:Audit"));
        services.AddSingleton<AuditChain>();
        services.AddScoped<AuditTrail>();
        services.AddSingleton<AuditSequencer>();
        services.AddHostedService(sp => sp.GetRequiredService<AuditSequencer>());
        services.AddSingleton<AuditCheckpointer>();
        services.AddHostedService(sp => sp.GetRequiredService<AuditCheckpointer>());
        return services;
    }

    public static IEndpointRouteBuilder MapAudit(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/v1/audit").WithTags("Audit").RequireAuthorization(Roles.Viewer);
        g.MapGet("", List);
        g.MapGet("/verify", Verify)
            .WithDescription("Walks the lender's audit chain and holds it against the newest signed checkpoint; reports the first event that does not verify, "
                             + "and counts stored events left out of the chain because Lien did not write them (`refused`).");
        g.MapGet("/checkpoints", Checkpoints)
            .WithDescription("Signed checkpoints of the chain head, newest first. Keep copies outside Lien: a copy shows later deletions of the events it covers.");
        g.MapPost("/checkpoints", Checkpoint).RequireAuthorization(Roles.Admin)
            .WithDescription("Signs the chain head now (the server also does so every Lien:Audit:CheckpointInterval).");
        return app;
    }

    // Both read the chain only after what was committed before the request is chained: a client sees its own writes.
    private static async Task<Results<Ok<List<AuditView>>, ValidationProblem>> List(ClaimsPrincipal user, LienDb db, AuditSequencer sequencer,
        long? after, string? subject, int? limit, CancellationToken ct)
    {
        var errors = new Errors().Text(subject, "subject", 100);
        if (errors.Any) return errors.Problem();
        await sequencer.CatchUpAsync(ct);
        var lenderId = user.LenderId();
        var q = db.AuditEvents.AsNoTracking().Where(e => e.LenderId == lenderId && e.Seq > (after ?? 0));
        if (!string.IsNullOrEmpty(subject)) q = q.Where(e => e.Subject == subject);
        var rows = await q.OrderBy(e => e.Seq).Take(Api.Paging.Limit(limit))
            .Select(e => new AuditView(e.Seq!.Value, e.At, e.Actor, e.Action, e.Subject, e.Reason, e.Policy, e.Data, e.Hash!)).ToListAsync(ct);
        return TypedResults.Ok(rows);
    }

    private static async Task<Ok<ChainCheck>> Verify(ClaimsPrincipal user, LienDb db, AuditChain chain, AuditSequencer sequencer, CancellationToken ct)
    {
        await sequencer.CatchUpAsync(ct);
        var r = await chain.VerifyAsync(db, user.LenderId(), ct);
        return TypedResults.Ok(new ChainCheck(r.Checked, r.Intact, r.BrokenAt, r.Problem, r.Checkpoint is { } c ? View(c) : null, r.Refused));
    }

    private static async Task<Ok<List<CheckpointView>>> Checkpoints(ClaimsPrincipal user, LienDb db, int? limit, CancellationToken ct)
    {
        var lenderId = user.LenderId();
        var rows = await db.AuditCheckpoints.AsNoTracking().Where(c => c.LenderId == lenderId).OrderByDescending(c => c.Seq)
            .Take(Api.Paging.Limit(limit)).ToListAsync(ct);
        return TypedResults.Ok(rows.Select(View).ToList());
    }

    private static async Task<Results<Created<CheckpointView>, ProblemHttpResult>> Checkpoint(ClaimsPrincipal user, AuditCheckpointer checkpointer, LienDb db,
        CancellationToken ct)
    {
        var lenderId = user.LenderId();
        var c = await checkpointer.CheckpointAsync(lenderId, ct)
                ?? await db.AuditCheckpoints.AsNoTracking().Where(x => x.LenderId == lenderId).OrderByDescending(x => x.Seq).FirstOrDefaultAsync(ct);
        return c is null ? Problems.Conflict("The audit trail has no events to checkpoint yet.") : TypedResults.Created("/v1/audit/checkpoints", View(c));
    }

    private static CheckpointView View(AuditCheckpoint c) => new(c.Seq, c.Hash, c.At, c.Jws);
}
