using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Lien.Server.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class DeviceTrust : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "EnrollmentPolicy",
                table: "Lenders",
                type: "TEXT",
                maxLength: 16,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "KeySetJson",
                table: "Lenders",
                type: "TEXT",
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<long>(
                name: "KeySetVersion",
                table: "Lenders",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "RevokedAt",
                table: "LenderKeys",
                type: "INTEGER",
                nullable: true);

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

            migrationBuilder.AddColumn<string>(
                name: "EnrolledWith",
                table: "Devices",
                type: "TEXT",
                maxLength: 200,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "RefusedAcks",
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

            migrationBuilder.CreateTable(
                name: "EnrollmentTokens",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    LenderId = table.Column<Guid>(type: "TEXT", nullable: false),
                    DeviceId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Hash = table.Column<byte[]>(type: "BLOB", maxLength: 32, nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    ExpiresAt = table.Column<long>(type: "INTEGER", nullable: false),
                    SpentAt = table.Column<long>(type: "INTEGER", nullable: true),
                    RevokedAt = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_EnrollmentTokens", x => x.Id);
                    table.ForeignKey(
                        name: "FK_EnrollmentTokens_Devices_DeviceId",
                        column: x => x.DeviceId,
                        principalTable: "Devices",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "SpentChallenges",
                columns: table => new
                {
                    Id = table.Column<byte[]>(type: "BLOB", maxLength: 31, nullable: false),
                    ExpiresAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SpentChallenges", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_EnrollmentTokens_DeviceId",
                table: "EnrollmentTokens",
                column: "DeviceId");

            migrationBuilder.CreateIndex(
                name: "IX_EnrollmentTokens_Hash",
                table: "EnrollmentTokens",
                column: "Hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_SpentChallenges_ExpiresAt",
                table: "SpentChallenges",
                column: "ExpiresAt");

            // A device enrolled before fresh secrets per enrollment holds its first secret: version 1, as its codes are.
            migrationBuilder.Sql("""UPDATE "Devices" SET "CodeSecretVersion" = 1 WHERE "CodeSecretSealed" IS NOT NULL""");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "EnrollmentTokens");

            migrationBuilder.DropTable(
                name: "SpentChallenges");

            migrationBuilder.DropColumn(
                name: "EnrollmentPolicy",
                table: "Lenders");

            migrationBuilder.DropColumn(
                name: "KeySetJson",
                table: "Lenders");

            migrationBuilder.DropColumn(
                name: "KeySetVersion",
                table: "Lenders");

            migrationBuilder.DropColumn(
                name: "RevokedAt",
                table: "LenderKeys");

            migrationBuilder.DropColumn(
                name: "SecretVersion",
                table: "IssuedCodes");

            migrationBuilder.DropColumn(
                name: "CodeSecretVersion",
                table: "Devices");

            migrationBuilder.DropColumn(
                name: "EnrolledWith",
                table: "Devices");

            migrationBuilder.DropColumn(
                name: "RefusedAcks",
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
