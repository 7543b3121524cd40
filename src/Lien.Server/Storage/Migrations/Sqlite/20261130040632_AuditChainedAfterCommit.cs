using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Lien.Server.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AuditChainedAfterCommit : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Hand-edited: Seq, PrevHash and Hash become nullable and EventId and Mac are added by rebuilding the table as
            // EF would, but inside the migration's transaction: nothing references AuditEvents and it references nothing,
            // so EF's step that turns foreign keys off (which cannot run in a transaction) is not needed.
            migrationBuilder.Sql("""
                CREATE TABLE "ef_temp_AuditEvents" (
                    "Id" INTEGER NOT NULL CONSTRAINT "PK_AuditEvents" PRIMARY KEY AUTOINCREMENT,
                    "Action" TEXT NOT NULL,
                    "Actor" TEXT NOT NULL,
                    "At" INTEGER NOT NULL,
                    "Data" TEXT NULL,
                    "EventId" TEXT NULL,
                    "Hash" TEXT NULL,
                    "LenderId" TEXT NOT NULL,
                    "Mac" TEXT NULL,
                    "Policy" TEXT NULL,
                    "PrevHash" TEXT NULL,
                    "Reason" TEXT NULL,
                    "Seq" INTEGER NULL,
                    "Subject" TEXT NOT NULL
                );
                """);
            migrationBuilder.Sql("""
                INSERT INTO "ef_temp_AuditEvents" ("Id", "Action", "Actor", "At", "Data", "Hash", "LenderId", "Policy", "PrevHash", "Reason", "Seq", "Subject")
                SELECT "Id", "Action", "Actor", "At", "Data", "Hash", "LenderId", "Policy", "PrevHash", "Reason", "Seq", "Subject"
                FROM "AuditEvents";
                """);
            migrationBuilder.Sql("""DROP TABLE "AuditEvents";""");
            migrationBuilder.Sql("""ALTER TABLE "ef_temp_AuditEvents" RENAME TO "AuditEvents";""");

            migrationBuilder.CreateIndex(
                name: "IX_AuditEvents_LenderId_Seq",
                table: "AuditEvents",
                columns: new[] { "LenderId", "Seq" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AuditEvents_EventId",
                table: "AuditEvents",
                column: "EventId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AuditEvents_Unsequenced",
                table: "AuditEvents",
                column: "Id",
                filter: "\"Seq\" IS NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_AuditEvents_EventId",
                table: "AuditEvents");

            migrationBuilder.DropIndex(
                name: "IX_AuditEvents_Unsequenced",
                table: "AuditEvents");

            migrationBuilder.DropColumn(
                name: "EventId",
                table: "AuditEvents");

            migrationBuilder.DropColumn(
                name: "Mac",
                table: "AuditEvents");

            migrationBuilder.AlterColumn<long>(
                name: "Seq",
                table: "AuditEvents",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L,
                oldClrType: typeof(long),
                oldType: "INTEGER",
                oldNullable: true);

            migrationBuilder.AlterColumn<string>(
                name: "PrevHash",
                table: "AuditEvents",
                type: "TEXT",
                nullable: false,
                defaultValue: "",
                oldClrType: typeof(string),
                oldType: "TEXT",
                oldNullable: true);

            migrationBuilder.AlterColumn<string>(
                name: "Hash",
                table: "AuditEvents",
                type: "TEXT",
                nullable: false,
                defaultValue: "",
                oldClrType: typeof(string),
                oldType: "TEXT",
                oldNullable: true);
        }
    }
}
