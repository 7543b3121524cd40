using Lien.Server.Api;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Console.Pages;

/// <summary>An admin's page: the lender's console users, invites, password-reset links, roles.</summary>
[Authorize(Policy = ConsolePolicies.Admin)]
internal sealed class UsersModel(LienDb db, ConsoleStaff staff, TimeProvider time) : PageModel
{
    public IReadOnlyList<ConsoleUser> Staff { get; private set; } = [];
    public string? Link { get; private set; }
    public string? Problem { get; private set; }
    public DateTimeOffset Now => time.GetUtcNow();

    public Task OnGetAsync(CancellationToken ct) => LoadAsync(ct);

    public async Task OnPostInviteAsync(string? userName, string? role, CancellationToken ct)
    {
        var parsed = ParseRole(role);
        var errors = ConsoleStaff.Validate(userName, parsed);
        if (errors.Any || parsed is null) Problem = "Choose a user name (letters, digits, - . _ @ +; up to 100) and a role.";
        else Said(await staff.InviteAsync(User.LenderId(), userName!, parsed.Value, User.ConsoleActor(), ct));
        await LoadAsync(ct);
    }

    public async Task OnPostResetAsync(string? id, CancellationToken ct)
    {
        if (id is { Length: > 0 and <= 36 }) Said(await staff.ResetAsync(User.LenderId(), id, User.ConsoleActor(), ct));
        else Problem = "No such user.";
        await LoadAsync(ct);
    }

    public async Task OnPostRoleAsync(string? id, string? role, CancellationToken ct)
    {
        if (id is not { Length: > 0 and <= 36 } || ParseRole(role) is not { } parsed) Problem = "Choose a user and a role.";
        else if (await staff.ChangeRoleAsync(User.LenderId(), id, parsed, User.ConsoleActor(), ct) is { Succeeded: false } failed)
            Problem = string.Join(" ", failed.Errors.Select(e => e.Description));
        await LoadAsync(ct);
    }

    private static ConsoleRole? ParseRole(string? role) =>
        Enum.TryParse<ConsoleRole>(role, ignoreCase: true, out var r) && Enum.IsDefined(r) && role is { Length: <= 16 } && !role.Any(char.IsDigit) ? r : null;

    private void Said(StaffOutcome outcome)
    {
        if (outcome is StaffOutcome.Invited i) Link = $"{Request.Scheme}://{Request.Host}{i.Link}";
        else if (outcome is StaffOutcome.Refused r) Problem = r.Detail;
    }

    private async Task LoadAsync(CancellationToken ct) =>
        Staff = await db.Set<ConsoleUser>().AsNoTracking().Where(u => u.LenderId == User.LenderId()).OrderBy(u => u.UserName).ToListAsync(ct);
}
