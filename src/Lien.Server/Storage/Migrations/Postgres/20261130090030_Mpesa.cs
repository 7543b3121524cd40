using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Lien.Server.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Mpesa : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "MpesaAccount",
                columns: table => new
                {
                    LenderId = table.Column<Guid>(type: "uuid", nullable: false),
                    ShortCode = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    ConsumerKey = table.Column<byte[]>(type: "bytea", nullable: false),
                    ConsumerSecret = table.Column<byte[]>(type: "bytea", nullable: false),
                    Passkey = table.Column<byte[]>(type: "bytea", nullable: false),
                    InitiatorName = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    SecurityCredential = table.Column<byte[]>(type: "bytea", nullable: true),
                    BaseUrl = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false),
                    CallbackBaseUrl = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false),
                    PathSecretHash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    PathSecret = table.Column<byte[]>(type: "bytea", nullable: false),
                    AllowedSources = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_MpesaAccount", x => x.LenderId);
                    table.ForeignKey(
                        name: "FK_MpesaAccount_Lenders_LenderId",
                        column: x => x.LenderId,
                        principalTable: "Lenders",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "MpesaPaymentRequest",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    LenderId = table.Column<Guid>(type: "uuid", nullable: false),
                    PlanId = table.Column<Guid>(type: "uuid", nullable: false),
                    Phone = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Amount = table.Column<long>(type: "bigint", nullable: false),
                    Currency = table.Column<string>(type: "character varying(3)", maxLength: 3, nullable: false),
                    Channel = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    MerchantRequestId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    CheckoutRequestId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    State = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    ResultCode = table.Column<int>(type: "integer", nullable: true),
                    ResultDesc = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    Receipt = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    PaymentId = table.Column<Guid>(type: "uuid", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    EndedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    StatusQueriedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    StatusConversationId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    Version = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_MpesaPaymentRequest", x => x.Id);
                    table.ForeignKey(
                        name: "FK_MpesaPaymentRequest_Plans_PlanId",
                        column: x => x.PlanId,
                        principalTable: "Plans",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "UnmatchedPayment",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    LenderId = table.Column<Guid>(type: "uuid", nullable: false),
                    Provider = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    ProviderTransactionId = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    AccountReference = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Amount = table.Column<long>(type: "bigint", nullable: false),
                    Currency = table.Column<string>(type: "character varying(3)", maxLength: 3, nullable: false),
                    Payer = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    PayerName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    ReceivedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Rule = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Note = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    ProposedPlanId = table.Column<Guid>(type: "uuid", nullable: true),
                    State = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    PlanId = table.Column<Guid>(type: "uuid", nullable: true),
                    PaymentId = table.Column<Guid>(type: "uuid", nullable: true),
                    Reason = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    ResolvedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    ResolvedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    Version = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_UnmatchedPayment", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_MpesaAccount_PathSecretHash",
                table: "MpesaAccount",
                column: "PathSecretHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_MpesaPaymentRequest_LenderId_CheckoutRequestId",
                table: "MpesaPaymentRequest",
                columns: new[] { "LenderId", "CheckoutRequestId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_MpesaPaymentRequest_LenderId_StatusConversationId",
                table: "MpesaPaymentRequest",
                columns: new[] { "LenderId", "StatusConversationId" });

            migrationBuilder.CreateIndex(
                name: "IX_MpesaPaymentRequest_PlanId",
                table: "MpesaPaymentRequest",
                column: "PlanId");

            migrationBuilder.CreateIndex(
                name: "IX_MpesaPaymentRequest_State_CreatedAt",
                table: "MpesaPaymentRequest",
                columns: new[] { "State", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_UnmatchedPayment_LenderId_Provider_ProviderTransactionId",
                table: "UnmatchedPayment",
                columns: new[] { "LenderId", "Provider", "ProviderTransactionId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_UnmatchedPayment_LenderId_State_Id",
                table: "UnmatchedPayment",
                columns: new[] { "LenderId", "State", "Id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "MpesaAccount");

            migrationBuilder.DropTable(
                name: "MpesaPaymentRequest");

            migrationBuilder.DropTable(
                name: "UnmatchedPayment");
        }
    }
}
