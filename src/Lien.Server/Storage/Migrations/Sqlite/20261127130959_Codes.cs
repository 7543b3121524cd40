using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Lien.Server.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Codes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "CodeRestrictedDigitSet",
                table: "Lenders",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<int>(
                name: "CodeTimeDivider",
                table: "Lenders",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "CodeCount",
                table: "Devices",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<byte[]>(
                name: "CodeSecretSealed",
                table: "Devices",
                type: "BLOB",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "CodeStartingCode",
                table: "Devices",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.CreateTable(
                name: "IssuedCodes",
                columns: table => new
                {
                    DeviceId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Count = table.Column<int>(type: "INTEGER", nullable: false),
                    LenderId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Type = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Value = table.Column<int>(type: "INTEGER", nullable: false),
                    Code = table.Column<string>(type: "TEXT", nullable: false),
                    IssuedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    Actor = table.Column<string>(type: "TEXT", nullable: false),
                    Reason = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_IssuedCodes", x => new { x.DeviceId, x.Count });
                    table.ForeignKey(
                        name: "FK_IssuedCodes_Devices_DeviceId",
                        column: x => x.DeviceId,
                        principalTable: "Devices",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "IssuedCodes");

            migrationBuilder.DropColumn(
                name: "CodeRestrictedDigitSet",
                table: "Lenders");

            migrationBuilder.DropColumn(
                name: "CodeTimeDivider",
                table: "Lenders");

            migrationBuilder.DropColumn(
                name: "CodeCount",
                table: "Devices");

            migrationBuilder.DropColumn(
                name: "CodeSecretSealed",
                table: "Devices");

            migrationBuilder.DropColumn(
                name: "CodeStartingCode",
                table: "Devices");
        }
    }
}
