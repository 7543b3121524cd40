using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Lien.Server.Storage.Migrations.Postgres
{
    /// <summary>
    /// <c>lien_one_row(changed)</c>: raises a serialization failure (SQLSTATE 40001, so the unit of work is redone) unless
    /// exactly one row changed. A unit of work whose writes are sent as one implicit transaction (no BEGIN, no COMMIT:
    /// <see cref="PostgresWrites"/>) checks its concurrency tokens inside that transaction with it, where a count read
    /// afterwards would be too late.
    /// </summary>
    public partial class OneRowCheck : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE FUNCTION lien_one_row(changed bigint) RETURNS void LANGUAGE plpgsql AS $$
                BEGIN
                    IF changed <> 1 THEN
                        RAISE EXCEPTION 'The row was changed or deleted since it was read (% rows matched its key and concurrency token).', changed
                            USING ERRCODE = 'serialization_failure';
                    END IF;
                END
                $$;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP FUNCTION lien_one_row(bigint);");
        }
    }
}
