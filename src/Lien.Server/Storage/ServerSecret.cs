using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.Storage;

/// <summary>A server-wide secret (e.g. the device-token MAC key), sealed at rest and shared by every node.</summary>
internal sealed class ServerSecret
{
    public required string Name { get; set; }
    public required byte[] Sealed { get; set; }
}

internal sealed class ServerSecretConfiguration : IEntityTypeConfiguration<ServerSecret>
{
    public void Configure(EntityTypeBuilder<ServerSecret> e) => e.HasKey(x => x.Name);
}
