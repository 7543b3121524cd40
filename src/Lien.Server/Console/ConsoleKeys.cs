using System.Xml.Linq;
using Lien.Server.Storage;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.Console;

/// <summary>
/// The keys that protect console cookies, antiforgery tokens and invite links (ASP.NET Core Data Protection) live in the
/// database, so every node of one database accepts what another issued and a restart signs nobody out; each key is
/// sealed with the master key (<see cref="SecretBox"/>), so reading the database is not enough to forge a login.
/// </summary>
internal static class ConsoleKeys
{
    public const string Purpose = "console-data-protection";

    public static void Add(IServiceCollection services)
    {
        services.AddDataProtection().SetApplicationName("Lien").PersistKeysToDbContext<LienDb>();
        services.AddOptions<Microsoft.AspNetCore.DataProtection.KeyManagement.KeyManagementOptions>()
            .Configure<IServiceProvider>((o, sp) => o.XmlEncryptor = new SealedXml(sp));
    }

    /// <summary>Seals a key's XML with the master key; <see cref="OpenedXml"/> opens it.</summary>
    private sealed class SealedXml(IServiceProvider services) : IXmlEncryptor
    {
        public EncryptedXmlInfo Encrypt(XElement plaintextElement)
        {
            var sealedBytes = services.GetRequiredService<SecretBox>().Seal(System.Text.Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting)), Purpose);
            return new EncryptedXmlInfo(new XElement("sealed", Convert.ToBase64String(sealedBytes)), typeof(OpenedXml));
        }
    }
}

/// <summary>Opens a key sealed by <see cref="ConsoleKeys"/> (Data Protection makes it by its type name, with the services).</summary>
internal sealed class OpenedXml(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement) =>
        XElement.Parse(System.Text.Encoding.UTF8.GetString(services.GetRequiredService<SecretBox>().Open(Convert.FromBase64String(encryptedElement.Value), ConsoleKeys.Purpose)));
}

internal sealed class DataProtectionKeyConfiguration : IEntityTypeConfiguration<DataProtectionKey>
{
    public void Configure(EntityTypeBuilder<DataProtectionKey> e)
    {
        e.ToTable("DataProtectionKeys");
        e.HasKey(k => k.Id);
    }
}
