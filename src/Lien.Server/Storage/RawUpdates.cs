// EF's own entry (InternalEntityEntry) is read without a PropertyEntry per property (an object each, and a type has up to
// 64): an internal API, so an EF upgrade that changes it fails to build or fails RawUpdatesTests, never silently.
#pragma warning disable EF1001

using System.Collections.Concurrent;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Lien.Server.Storage;

/// <summary>
/// The end of a unit of work whose only changes are updates of tracked rows — a payment's plan and
/// device, once its new rows went in by <see cref="RawInsert"/>: each changed row is written by one
/// <c>UPDATE … SET</c> of the columns that changed — on SQLite at once, on the writer's kept statement for that shape; on
/// PostgreSQL with the unit's other writes, in one round trip (<see cref="PostgresWrites"/>) — instead of by EF's save
/// (command ordering, batching and result propagation were most of what remained of it on the one writer). A
/// concurrency token is checked as EF checks it: the row must still hold the value it was read with, or the unit meets a
/// <see cref="DbUpdateConcurrencyException"/> and is redone. A unit with anything else to save (a row added or deleted, a
/// key changed, an entity type this does not know how to write) is saved by EF, whole.
/// </summary>
internal static class RawUpdates
{
    private sealed record Shape(string Sql, IProperty[] Set, IProperty[] Where);

    // One shape per entity type and set of changed columns (a bit each; a type of more than 64 properties is left to EF).
    private static readonly ConcurrentDictionary<(IEntityType, ulong), Shape> Shapes = new();

    /// <summary>
    /// Writes the unit's changes and accepts them, true; false, having written nothing, when they are EF's to save. On
    /// SQLite each update runs at once (nothing is held there, so this completes without waiting); on PostgreSQL they
    /// join the unit's held writes, all sent in one round trip.
    /// </summary>
    public static async Task<bool> TrySaveAsync(LienDb db, CancellationToken ct)
    {
        if (Collect(db) is not { } modified) return false;
        foreach (var entry in modified) Update(db, entry);
        await db.PostgresWrites.FlushAsync(db, ct, last: true);
        db.ChangeTracker.AcceptAllChanges();
        return true;
    }

    // The modified entries (none: an empty list), or null when any change is one this does not write.
    private static List<EntityEntry>? Collect(LienDb db)
    {
        List<EntityEntry> modified = [];
        foreach (var entry in db.ChangeTracker.Entries()) // detects the changes first
        {
            if (entry.State == EntityState.Unchanged) continue;
            if (entry.State != EntityState.Modified || !Writable(entry)) return null;
            modified.Add(entry);
        }
        return modified;
    }

    // What is known of an entity type once: whether this can write it (one table, no inheritance, at most 64 properties,
    // a bit each in a shape's key) and its properties in the model's order.
    private sealed record TypeInfo(bool Writable, IProperty[] Properties);

    private static readonly ConcurrentDictionary<IEntityType, TypeInfo> Types = new();

    private static TypeInfo InfoOf(IEntityType type) => Types.GetOrAdd(type, static t => new TypeInfo(
        t is { BaseType: null } && !t.GetDirectlyDerivedTypes().Any() && t.GetTableName() is not null && t.GetProperties().Count() <= 64,
        [.. t.GetProperties()]));

    // A writable type whose key stays and whose concurrency tokens were read with a value.
    private static bool Writable(EntityEntry entry) => InfoOf(entry.Metadata).Writable && KeyKeptAndTokensRead(entry.GetInfrastructure());

    private static bool KeyKeptAndTokensRead(Microsoft.EntityFrameworkCore.ChangeTracking.Internal.InternalEntityEntry entry) =>
        !entry.EntityType.FindPrimaryKey()!.Properties.Any(entry.IsModified)
        && entry.EntityType.GetProperties().All(p => !p.IsConcurrencyToken || entry.GetOriginalValue(p) is not null);

    private static void Update(LienDb db, EntityEntry entry)
    {
        var type = entry.Metadata;
        var properties = InfoOf(type).Properties;
        var internalEntry = entry.GetInfrastructure();
        var changed = 0UL;
        for (var i = 0; i < properties.Length; i++)
            if (internalEntry.IsModified(properties[i])) changed |= 1UL << i;
        if (changed == 0) return; // modified, then set back: nothing to write
        var shape = Shapes.GetOrAdd((type, changed), static (key, a) => ShapeOf(key.Item1, a.properties, key.Item2, a.sqlite), (properties, sqlite: db.IsSqlite));

        var values = new (RelationalTypeMapping, object?, bool)[shape.Set.Length + shape.Where.Length];
        var n = 0;
        foreach (var p in shape.Set) values[n++] = (p.GetRelationalTypeMapping(), internalEntry.GetCurrentValue(p), p.IsNullable);
        foreach (var p in shape.Where)
            values[n++] = (p.GetRelationalTypeMapping(), p.IsPrimaryKey() ? internalEntry.GetCurrentValue(p) : internalEntry.GetOriginalValue(p), p.IsNullable);
        var conflict = $"The {type.DisplayName()} row was changed or deleted since it was read";
        if (!db.IsSqlite)
        {
            db.PostgresWrites.Add(shape.Sql, values, unlessOneRow: conflict);
            return;
        }
        using var command = new RawCommand(db, shape.Sql);
        for (var i = 0; i < values.Length; i++) command.Bind(values[i].Item1, "@p" + i, values[i].Item2, values[i].Item3);
        var rows = command.Execute();
        if (rows != 1) throw new DbUpdateConcurrencyException($"{conflict} ({rows} rows matched its key and concurrency token).");
    }

    // SQLite's parameters are named (@p0…); PostgreSQL's positional ($1…), which Npgsql sends without rewriting the text.
    private static Shape ShapeOf(IEntityType type, IProperty[] properties, ulong changed, bool sqlite)
    {
        var set = properties.Where((_, i) => (changed & (1UL << i)) != 0).ToArray();
        var where = type.FindPrimaryKey()!.Properties.Concat(properties.Where(p => p.IsConcurrencyToken && !p.IsPrimaryKey())).ToArray();
        var sql = new StringBuilder($"UPDATE \"{type.GetTableName()}\" SET ");
        var n = 0;
        sql.AppendJoin(", ", set.Select(p => $"\"{p.GetColumnName()}\" = {Parameter(n++)}"));
        sql.Append(" WHERE ").AppendJoin(" AND ", where.Select(p => $"\"{p.GetColumnName()}\" = {Parameter(n++)}"));
        return new Shape(sql.ToString(), set, where);

        string Parameter(int i) => sqlite ? "@p" + i : "$" + (i + 1);
    }
}
