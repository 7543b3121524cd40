using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Lien.Server.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class SafeMoneyAndLienCheck : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "Backdated",
                table: "Plans",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<int>(
                name: "SettlementHoldHours",
                table: "Lenders",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "PayoffCertificates",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    LenderId = table.Column<Guid>(type: "TEXT", nullable: false),
                    PlanId = table.Column<Guid>(type: "TEXT", nullable: false),
                    DeviceId = table.Column<Guid>(type: "TEXT", nullable: false),
                    IssuedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    Kid = table.Column<string>(type: "TEXT", maxLength: 40, nullable: false),
                    Jws = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_PayoffCertificates", x => x.Id);
                    table.ForeignKey(
                        name: "FK_PayoffCertificates_Devices_DeviceId",
                        column: x => x.DeviceId,
                        principalTable: "Devices",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_PayoffCertificates_Lenders_LenderId",
                        column: x => x.LenderId,
                        principalTable: "Lenders",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_PayoffCertificates_Plans_PlanId",
                        column: x => x.PlanId,
                        principalTable: "Plans",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_PayoffCertificates_DeviceId",
                table: "PayoffCertificates",
                column: "DeviceId");

            migrationBuilder.CreateIndex(
                name: "IX_PayoffCertificates_LenderId",
                table: "PayoffCertificates",
                column: "LenderId");

            migrationBuilder.CreateIndex(
                name: "IX_PayoffCertificates_PlanId",
                table: "PayoffCertificates",
                column: "PlanId",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "PayoffCertificates");

            migrationBuilder.DropColumn(
                name: "Backdated",
                table: "Plans");

            migrationBuilder.DropColumn(
                name: "SettlementHoldHours",
                table: "Lenders");
        }
    }
}
