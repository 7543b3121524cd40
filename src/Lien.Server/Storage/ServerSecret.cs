using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.Storage;

/// <summary>A server-wide secret (e.g. the device-token MAC key), sealed at rest and shared by every node.</summary>
internal sealed class ServerSecret
{
    public required string Name { get; set; }
    public required byte[] Sealed { get; set; }

    /// <summary>
    /// The 32-byte secret <paramref name="name"/>, opened; made (random) and stored by the first node that asks for it.
    /// </summary>
    public static async Task<byte[]> LoadOrCreateAsync(IServiceProvider services, string name)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LienDb>();
        var box = scope.ServiceProvider.GetRequiredService<SecretBox>();
        var row = await db.ServerSecrets.AsNoTracking().FirstOrDefaultAsync(s => s.Name == name);
        if (row is null)
        {
            db.ServerSecrets.Add(new ServerSecret { Name = name, Sealed = box.Seal(RandomNumberGenerator.GetBytes(32), name) });
            try { await db.SaveChangesAsync(); }
            catch (DbUpdateException e) when (Transactions.IsUniqueViolation(e)) { db.ChangeTracker.Clear(); } // another node made it first
            row = await db.ServerSecrets.AsNoTracking().FirstAsync(s => s.Name == name);
        }
        return box.Open(row.Sealed, name);
    }
}

internal sealed class ServerSecretConfiguration : IEntityTypeConfiguration<ServerSecret>
{
    public void Configure(EntityTypeBuilder<ServerSecret> e) => e.HasKey(x => x.Name);
}
