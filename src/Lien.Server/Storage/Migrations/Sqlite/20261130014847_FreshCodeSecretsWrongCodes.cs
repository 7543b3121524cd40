using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Lien.Server.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class FreshCodeSecretsWrongCodes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "SecretVersion",
                table: "IssuedCodes",
                type: "INTEGER",
                nullable: false,
                defaultValue: 1); // codes issued before: made with the secret their device holds, version 1 below

            migrationBuilder.AddColumn<int>(
                name: "CodeSecretVersion",
                table: "Devices",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "WrongCodes",
                table: "Devices",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<long>(
                name: "WrongCodesReportedAt",
                table: "Devices",
                type: "INTEGER",
                nullable: true);

            // A device enrolled before this version holds its first (and only) secret.
            migrationBuilder.Sql("""UPDATE "Devices" SET "CodeSecretVersion" = 1 WHERE "CodeSecretSealed" IS NOT NULL""");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "SecretVersion",
                table: "IssuedCodes");

            migrationBuilder.DropColumn(
                name: "CodeSecretVersion",
                table: "Devices");

            migrationBuilder.DropColumn(
                name: "WrongCodes",
                table: "Devices");

            migrationBuilder.DropColumn(
                name: "WrongCodesReportedAt",
                table: "Devices");
        }
    }
}
