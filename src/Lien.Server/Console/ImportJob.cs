using Lien.Server.Lenders;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.Console;

internal enum ImportState { Queued, Running, Done }

/// <summary>
/// A CSV of devices uploaded in the console, imported in the background (<see cref="DeviceImports"/>) in slices so its
/// status page can show progress; the file is kept with the job (any node may run it) and each refused row is kept for
/// the downloadable error report.
/// </summary>
internal sealed class ImportJob
{
    public Guid Id { get; set; }
    public Guid LenderId { get; set; }
    public required string FileName { get; set; }
    public required string Csv { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public required string CreatedBy { get; set; }
    public ImportState State { get; set; }
    public int Total { get; set; }
    public int Processed { get; set; }
    public int Registered { get; set; }
    public int Refused { get; set; }

    /// <summary>The refused rows as JSON (<see cref="ImportRowError"/>s), in line order.</summary>
    public string ErrorsJson { get; set; } = "[]";
    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>Until when the node running it holds it (renewed with every slice); a job whose hold ran out — its node stopped — is taken up again where it was.</summary>
    public DateTimeOffset? HeldUntil { get; set; }
}

/// <summary>One refused row of an import: its line in the file, its IMEI as given, and why.</summary>
internal sealed record ImportRowError(int Line, string? Imei, string Reason);

internal sealed class ImportJobConfiguration : IEntityTypeConfiguration<ImportJob>
{
    public void Configure(EntityTypeBuilder<ImportJob> e)
    {
        e.ToTable("ImportJobs");
        e.Property(x => x.FileName).HasMaxLength(200);
        e.Property(x => x.CreatedBy).HasMaxLength(200);
        e.HasIndex(x => new { x.LenderId, x.CreatedAt });
        e.HasIndex(x => x.State);
        e.HasOne<Lender>().WithMany().HasForeignKey(x => x.LenderId);
    }
}
