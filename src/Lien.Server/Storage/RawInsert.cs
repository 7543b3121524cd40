using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Lien.Server.Storage;

/// <summary>
/// Inserts a new row at once, on SQLite, inside a unit of work, by a statement the writer keeps prepared, instead of
/// tracking the entity for the unit's save. A payment adds a ledger entry, a lease and two audit events; as tracked
/// entities they were most of the save's work on the one writer (EF's change detection, command ordering and batching,
/// accepting the changes), which every payment in the queue waits behind. The row is written in the open transaction,
/// so a unit rolled back takes it with it, and a unique key it breaks is a conflict like any other
/// (<see cref="Transactions.IsConflict"/>: the unit is redone). The statement names every column the model maps but one
/// the database generates (an integer key), and each value goes through its property's own type mapping, exactly as EF
/// writes it. PostgreSQL, and SQLite outside a unit of work, keep the tracked entity (<see cref="AddAsync"/> decides): there it
/// is part of the save's one batch.
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
        if (!db.IsSqlite || db.Database.CurrentTransaction is null || unsaved is not null && db.Entry(unsaved).State == EntityState.Added)
        {
            db.Set<T>().Add(entity);
            return;
        }
        var shape = Shapes.GetOrAdd((db.Model, typeof(T)), static key => ShapeOf(key.Item1, key.Item2));
        using var command = new RawCommand(db, shape.Sql);
        for (var i = 0; i < shape.Columns.Length; i++)
            command.Bind(shape.Columns[i].Mapping, "@p" + i, shape.Columns[i].Get(entity), shape.Columns[i].Nullable);
        await command.ExecuteAsync(ct);
    }

    private static Shape ShapeOf(IModel model, Type type)
    {
        var entityType = model.FindEntityType(type) ?? throw new InvalidOperationException($"{type.Name} is not an entity of the model.");
        var columns = entityType.GetProperties()
            .Where(p => !(p.IsPrimaryKey() && p.ValueGenerated.HasFlag(ValueGenerated.OnAdd) && p.ClrType is var t && (t == typeof(long) || t == typeof(int))))
            .Select(p => new Column(p.GetColumnName(), p.GetGetter().GetClrValue, p.GetRelationalTypeMapping(), p.IsNullable))
            .ToArray();
        var table = entityType.GetTableName() ?? throw new InvalidOperationException($"{type.Name} maps to no table.");
        var sql = $"INSERT INTO \"{table}\" ({string.Join(", ", columns.Select(c => $"\"{c.Name}\""))}) " +
                  $"VALUES ({string.Join(", ", columns.Select((_, i) => "@p" + i))})";
        return new Shape(sql, columns);
    }
}
