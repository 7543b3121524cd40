using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Lien.Server.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Borrower : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "PayToken",
                table: "Plans",
                type: "character varying(20)",
                maxLength: 20,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Paybill",
                table: "Lenders",
                type: "character varying(10)",
                maxLength: 10,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "CallbackRequest",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    LenderId = table.Column<Guid>(type: "uuid", nullable: false),
                    PlanId = table.Column<Guid>(type: "uuid", nullable: false),
                    Phone = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Channel = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    RequestedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    DoneAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    DoneBy = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    Note = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_CallbackRequest", x => x.Id);
                    table.ForeignKey(
                        name: "FK_CallbackRequest_Lenders_LenderId",
                        column: x => x.LenderId,
                        principalTable: "Lenders",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_CallbackRequest_Plans_PlanId",
                        column: x => x.PlanId,
                        principalTable: "Plans",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "IncomingSms",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    From = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Keyword = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    PlanId = table.Column<Guid>(type: "uuid", nullable: true),
                    ReceivedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_IncomingSms", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "PayRequest",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    LenderId = table.Column<Guid>(type: "uuid", nullable: false),
                    PlanId = table.Column<Guid>(type: "uuid", nullable: false),
                    ProviderRequestId = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Channel = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Amount = table.Column<long>(type: "bigint", nullable: false),
                    PhoneMasked = table.Column<string>(type: "character varying(24)", maxLength: 24, nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_PayRequest", x => x.Id);
                    table.ForeignKey(
                        name: "FK_PayRequest_Lenders_LenderId",
                        column: x => x.LenderId,
                        principalTable: "Lenders",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_PayRequest_Plans_PlanId",
                        column: x => x.PlanId,
                        principalTable: "Plans",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "UssdSession",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Phone = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    PlanId = table.Column<Guid>(type: "uuid", nullable: true),
                    State = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Consumed = table.Column<int>(type: "integer", nullable: false),
                    Reply = table.Column<string>(type: "character varying(400)", maxLength: 400, nullable: false),
                    ExpiresAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_UssdSession", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Plans_BorrowerPhone",
                table: "Plans",
                column: "BorrowerPhone");

            migrationBuilder.CreateIndex(
                name: "IX_Plans_PayToken",
                table: "Plans",
                column: "PayToken",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_CallbackRequest_LenderId_Id",
                table: "CallbackRequest",
                columns: new[] { "LenderId", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_CallbackRequest_PlanId_DoneAt",
                table: "CallbackRequest",
                columns: new[] { "PlanId", "DoneAt" });

            migrationBuilder.CreateIndex(
                name: "IX_PayRequest_LenderId",
                table: "PayRequest",
                column: "LenderId");

            migrationBuilder.CreateIndex(
                name: "IX_PayRequest_PlanId_CreatedAt",
                table: "PayRequest",
                columns: new[] { "PlanId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_UssdSession_Phone_ExpiresAt",
                table: "UssdSession",
                columns: new[] { "Phone", "ExpiresAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "CallbackRequest");

            migrationBuilder.DropTable(
                name: "IncomingSms");

            migrationBuilder.DropTable(
                name: "PayRequest");

            migrationBuilder.DropTable(
                name: "UssdSession");

            migrationBuilder.DropIndex(
                name: "IX_Plans_BorrowerPhone",
                table: "Plans");

            migrationBuilder.DropIndex(
                name: "IX_Plans_PayToken",
                table: "Plans");

            migrationBuilder.DropColumn(
                name: "PayToken",
                table: "Plans");

            migrationBuilder.DropColumn(
                name: "Paybill",
                table: "Lenders");
        }
    }
}
