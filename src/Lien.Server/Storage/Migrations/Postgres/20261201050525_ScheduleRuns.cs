using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Lien.Server.Storage.Migrations.Postgres
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
                type: "text",
                nullable: true);

            // Plans made before: one run per installment (ScheduleRuns reads it; only new plans get the short form).
            migrationBuilder.Sql("""
                UPDATE "Plans" AS p SET "ScheduleRuns" = (
                    SELECT string_agg(format('%s,%s,1,%s,0d', i."Number", to_char(i."DueDate", 'YYYY-MM-DD'), i."Amount"), ';' ORDER BY i."Number")
                    FROM "PlanInstallments" AS i WHERE i."PlanId" = p."Id");
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
