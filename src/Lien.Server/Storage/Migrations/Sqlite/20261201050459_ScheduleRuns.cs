using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Lien.Server.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ScheduleRuns : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "ScheduleRuns",
                table: "Plans",
                type: "TEXT",
                nullable: true);

            // Plans made before: one run per installment (ScheduleRuns reads it; only new plans get the short form).
            migrationBuilder.Sql("""
                UPDATE "Plans" SET "ScheduleRuns" = (
                    SELECT group_concat(i."Number" || ',' || i."DueDate" || ',1,' || i."Amount" || ',0d', ';' ORDER BY i."Number")
                    FROM "PlanInstallments" AS i WHERE i."PlanId" = "Plans"."Id");
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ScheduleRuns",
                table: "Plans");
        }
    }
}
