using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Lien.Server.Storage;

/// <summary>
/// Inserts a new row inside a unit of work by a hand-written statement instead of tracking the entity for the unit's save:
/// on SQLite at once, by a statement the writer keeps prepared; on PostgreSQL with the unit's other writes, in the one
/// round trip of its save (<see cref="PostgresWrites"/>). A payment adds a ledger entry, a lease and two audit events; as tracked
/// entities they were most of the save's work on the one writer (EF's change detection, command ordering and batching,
/// accepting the changes), which every payment in the queue waits behind. The row is written in the open transaction,
/// so a unit rolled back takes it with it, and a unique key it breaks is a conflict like any other
/// (<see cref="Transactions.IsConflict"/>: the unit is redone). The statement names every column the model maps but one
/// the database generates (an integer key), and each value goes through its property's own type mapping, exactly as EF
/// writes it. Outside a unit of work the entity is tracked (<see cref="AddAsync"/> decides), for the caller's save.
/// </summary>
internal static class RawInsert
{
    private sealed record Column(string Name, Func<object, object?> Get, RelationalTypeMapping Mapping, bool Nullable);

    private sealed record Shape(string Sql, Column[] Columns);

    private static readonly ConcurrentDictionary<(IModel, Type), Shape> Shapes = new();

    /// <summary>
    /// Adds <paramref name="entity"/>: inserted now when <paramref name="db"/> is SQLite inside a unit of work and nothing
    /// it refers to waits in the unit's save (<paramref name="unsaved"/>: a row added in this unit that it names — its
    /// foreign key is checked at once); otherwise tracked, for the unit's save.
    /// </summary>
    public static async Task AddAsync<T>(LienDb db, T entity, CancellationToken ct, object? unsaved = null) where T : class
    {
        if (!db.InUnitOfWork || unsaved is not null && db.Entry(unsaved).State == EntityState.Added)
        {
            db.Set<T>().Add(entity);
            return;
        }
        var shape = Shapes.GetOrAdd((db.Model, typeof(T)), static (key, sqlite) => ShapeOf(key.Item1, key.Item2, sqlite), db.IsSqlite);
        if (!db.IsSqlite)
        {
            var values = new (RelationalTypeMapping, object?, bool)[shape.Columns.Length];
            for (var i = 0; i < values.Length; i++) values[i] = (shape.Columns[i].Mapping, shape.Columns[i].Get(entity), shape.Columns[i].Nullable);
            db.PostgresWrites.Add(shape.Sql, values, inserts: entity);
            return;
        }
        using var command = new RawCommand(db, shape.Sql);
        for (var i = 0; i < shape.Columns.Length; i++)
            command.Bind(shape.Columns[i].Mapping, "@p" + i, shape.Columns[i].Get(entity), shape.Columns[i].Nullable);
        await command.ExecuteAsync(ct);
    }

    // SQLite's parameters are named (@p0…); PostgreSQL's positional ($1…), which Npgsql sends without rewriting the text.
    private static Shape ShapeOf(IModel model, Type type, bool sqlite)
    {
        var entityType = model.FindEntityType(type) ?? throw new InvalidOperationException($"{type.Name} is not an entity of the model.");
        var columns = entityType.GetProperties()
            .Where(p => !GeneratedByTheDatabase(p))
            .Select(p => new Column(p.GetColumnName(), p.GetGetter().GetClrValue, p.GetRelationalTypeMapping(), p.IsNullable))
            .ToArray();
        var table = entityType.GetTableName() ?? throw new InvalidOperationException($"{type.Name} maps to no table.");
        var sql = $"INSERT INTO \"{table}\" ({string.Join(", ", columns.Select(c => $"\"{c.Name}\""))}) " +
                  $"VALUES ({string.Join(", ", columns.Select((_, i) => sqlite ? "@p" + i : "$" + (i + 1)))})";
        return new Shape(sql, columns);
    }

    // An integer key, or a column with a default the database computes (PostgreSQL's AuditEvents.Xid, a shadow property):
    // left out of the statement, so the database fills it in as for EF's insert.
    private static bool GeneratedByTheDatabase(IProperty p) =>
        p.ValueGenerated.HasFlag(ValueGenerated.OnAdd)
        && (p.IsPrimaryKey() && (p.ClrType == typeof(long) || p.ClrType == typeof(int)) || p.GetDefaultValueSql() is not null || p.GetComputedColumnSql() is not null);
}
