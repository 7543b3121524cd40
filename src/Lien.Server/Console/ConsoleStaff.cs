using Lien.Server.Api;
using Lien.Server.Audit;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Console;

/// <summary>What an invite or a reset answers: the user and the one-time link that sets their password.</summary>
internal abstract record StaffOutcome
{
    public sealed record Invited(ConsoleUser User, string Link) : StaffOutcome;
    public sealed record Refused(string Detail) : StaffOutcome;
}

/// <summary>
/// A lender's console users: invited by an admin (or, for the first admin, by an admin API key or the demo) with a
/// one-time link that sets the password; reset by an admin the same way. The link is Identity's password-reset token,
/// bound to the user's security stamp, so using it (or any later reset) spends it.
/// </summary>
internal sealed class ConsoleStaff(LienDb db, UserManager<ConsoleUser> users, AuditTrail audit, TimeProvider time)
{
    public static Errors Validate(string? userName, ConsoleRole? role) => new Errors()
        .Text(userName, "userName", 100, required: true)
        .Check(userName is null || userName.Length == 0 || userName.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '@' or '+'),
            "userName", "userName may hold letters, digits and - . _ @ + only.")
        .Check(role is null || Enum.IsDefined(role.Value), "role", "role is one of viewer, collections, operator, admin.");

    /// <summary>Adds a user of <paramref name="lenderId"/> with no password yet and answers the invite link (path and query).</summary>
    public Task<StaffOutcome> InviteAsync(Guid lenderId, string userName, ConsoleRole role, string actor, CancellationToken ct) =>
        db.InTransactionAsync<StaffOutcome>(async () =>
        {
            if (await users.FindByNameAsync(userName) is not null)
                return new StaffOutcome.Refused($"A console user named {userName} already exists.");
            var user = new ConsoleUser
            {
                Id = Guid.CreateVersion7().ToString(), UserName = userName, LenderId = lenderId, Role = role,
                CreatedAt = time.GetUtcNow(), CreatedBy = actor, LockoutEnabled = true,
            };
            var created = await users.CreateAsync(user);
            if (!created.Succeeded) return new StaffOutcome.Refused(string.Join(" ", created.Errors.Select(e => e.Description)));
            await audit.RecordAsync(lenderId, actor, AuditAction.ConsoleUserInvited, $"console-user:{user.Id}", $"{userName} invited as {role}.", null, ct: ct);
            return new StaffOutcome.Invited(user, await LinkAsync(user));
        }, ct);

    /// <summary>A new one-time link for a user of <paramref name="lenderId"/> (a reset: the old password stops working once it is used).</summary>
    public Task<StaffOutcome> ResetAsync(Guid lenderId, string userId, string actor, CancellationToken ct) =>
        db.InTransactionAsync<StaffOutcome>(async () =>
        {
            var user = await db.Set<ConsoleUser>().FirstOrDefaultAsync(u => u.Id == userId && u.LenderId == lenderId, ct);
            if (user is null) return new StaffOutcome.Refused("No such user.");
            await audit.RecordAsync(lenderId, actor, AuditAction.ConsoleUserReset, $"console-user:{user.Id}", $"Password reset link for {user.UserName}.", null, ct: ct);
            return new StaffOutcome.Invited(user, await LinkAsync(user));
        }, ct);

    /// <summary>Sets a user's password outright (the demo's user); never from a page.</summary>
    public Task<ConsoleUser> AddWithPasswordAsync(Guid lenderId, string userName, ConsoleRole role, string password, string actor, CancellationToken ct) =>
        db.InTransactionAsync(async () =>
        {
            var user = new ConsoleUser
            {
                Id = Guid.CreateVersion7().ToString(), UserName = userName, LenderId = lenderId, Role = role,
                CreatedAt = time.GetUtcNow(), CreatedBy = actor, LockoutEnabled = true, Activated = true,
            };
            var created = await users.CreateAsync(user, password);
            if (!created.Succeeded) throw new InvalidOperationException(string.Join(" ", created.Errors.Select(e => e.Description)));
            await audit.RecordAsync(lenderId, actor, AuditAction.ConsoleUserInvited, $"console-user:{user.Id}", $"{userName} added as {role}.", null, ct: ct);
            return user;
        }, ct);

    /// <summary>Sets <paramref name="user"/>'s password outright (the demo's user, when its kept password was lost); never from a page.</summary>
    public Task<IdentityResult> SetPasswordAsync(ConsoleUser user, string password, CancellationToken ct) =>
        db.InTransactionAsync(async () =>
        {
            var removed = await users.RemovePasswordAsync(user);
            return removed.Succeeded ? await users.AddPasswordAsync(user, password) : removed;
        }, ct);

    public Task<IdentityResult> ChangeRoleAsync(Guid lenderId, string userId, ConsoleRole role, string actor, CancellationToken ct) =>
        db.InTransactionAsync(async () =>
        {
            var user = await db.Set<ConsoleUser>().FirstOrDefaultAsync(u => u.Id == userId && u.LenderId == lenderId, ct);
            if (user is null) return IdentityResult.Failed(new IdentityError { Description = "No such user." });
            user.Role = role;
            var result = await users.UpdateSecurityStampAsync(user); // signs the user out everywhere: the new role holds at the next request
            if (result.Succeeded)
                await audit.RecordAsync(lenderId, actor, AuditAction.ConsoleUserRole, $"console-user:{user.Id}", $"{user.UserName} is now {role}.", null, ct: ct);
            return result;
        }, ct);

    private async Task<string> LinkAsync(ConsoleUser user)
    {
        var token = await users.GeneratePasswordResetTokenAsync(user);
        return QueryHelpers.AddQueryString("/console/invite", new Dictionary<string, string?> { ["user"] = user.Id, ["token"] = token });
    }
}
