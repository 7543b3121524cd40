using System.Security.Cryptography;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Lenders;

/// <summary>
/// Is the configured master key the one this database's secrets were sealed with? Asked before the server starts and
/// before <c>lenders create</c>: under another key the server could open none of them, and would seal new ones nobody
/// else can open.
/// </summary>
internal static class MasterKeyCheck
{
    // The newest signing key decides; a database with no lender yet has its server secrets, each sealed under its own name.
    // A database with neither is new: any key fits.
    public static async Task<bool> FitsAsync(LienDb db, SecretBox box)
    {
        if (await db.LenderKeys.AsNoTracking().OrderByDescending(k => k.CreatedAt).FirstOrDefaultAsync() is { } key)
            return Opens(box, key.SealedPrivateKey, SigningKeys.KeyPurpose);
        var secrets = await db.ServerSecrets.AsNoTracking().ToListAsync();
        return secrets.Count == 0 || secrets.Any(s => Opens(box, s.Sealed, s.Name));
    }

    /// <summary>The same check for the server's start, with its own scope.</summary>
    public static async Task<bool> FitsAsync(IServiceProvider services)
    {
        await using var scope = services.CreateAsyncScope();
        return await FitsAsync(scope.ServiceProvider.GetRequiredService<LienDb>(), scope.ServiceProvider.GetRequiredService<SecretBox>());
    }

    private static bool Opens(SecretBox box, byte[] sealedBytes, string purpose)
    {
        try
        {
            box.Open(sealedBytes, purpose);
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}
