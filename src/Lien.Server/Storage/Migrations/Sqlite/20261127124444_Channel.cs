using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Lien.Server.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Channel : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "AppliedAt",
                table: "Leases",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "CreatedAt",
                table: "Leases",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "AppliedAt",
                table: "Leases");

            migrationBuilder.DropColumn(
                name: "CreatedAt",
                table: "Leases");
        }
    }
}
