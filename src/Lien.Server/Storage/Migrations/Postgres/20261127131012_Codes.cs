using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Lien.Server.Storage.Migrations.Postgres
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
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<int>(
                name: "CodeTimeDivider",
                table: "Lenders",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "CodeCount",
                table: "Devices",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<byte[]>(
                name: "CodeSecretSealed",
                table: "Devices",
                type: "bytea",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "CodeStartingCode",
                table: "Devices",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.CreateTable(
                name: "IssuedCodes",
                columns: table => new
                {
                    DeviceId = table.Column<Guid>(type: "uuid", nullable: false),
                    Count = table.Column<int>(type: "integer", nullable: false),
                    LenderId = table.Column<Guid>(type: "uuid", nullable: false),
                    Type = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Value = table.Column<int>(type: "integer", nullable: false),
                    Code = table.Column<string>(type: "text", nullable: false),
                    IssuedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Actor = table.Column<string>(type: "text", nullable: false),
                    Reason = table.Column<string>(type: "text", nullable: false)
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
