// EF's own entry (InternalEntityEntry) is read without a PropertyEntry per property (an object each, and a type has up to
// 64): an internal API, so an EF upgrade that changes it fails to build or fails RawUpdatesTests, never silently.
#pragma warning disable EF1001

using System.Collections.Concurrent;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Lien.Server.Storage;

/// <summary>
/// The end of a unit of work on the SQLite writer whose only changes are updates of tracked rows — a payment's plan and
/// device, once its new rows went in by <see cref="RawInsert"/>: each changed row is written by one
/// <c>UPDATE … SET</c> of the columns that changed, run on the writer's kept statement for that shape, instead of by EF's
/// save (command ordering, batching and result propagation were most of what remained of it on the one writer). A
/// concurrency token is checked as EF checks it: the row must still hold the value it was read with, or the unit meets a
/// <see cref="DbUpdateConcurrencyException"/> and is redone. A unit with anything else to save (a row added or deleted, a
/// key changed, an entity type this does not know how to write) is saved by EF, whole.
/// </summary>
internal static class RawUpdates
{
    private sealed record Shape(string Sql, IProperty[] Set, IProperty[] Where);

    // One shape per entity type and set of changed columns (a bit each; a type of more than 64 properties is left to EF).
    private static readonly ConcurrentDictionary<(IEntityType, ulong), Shape> Shapes = new();

    /// <summary>Writes the unit's changes and accepts them, true; false, having written nothing, when they are EF's to save.</summary>
    public static bool TrySave(LienDb db)
    {
        List<EntityEntry>? modified = null;
        foreach (var entry in db.ChangeTracker.Entries()) // detects the changes first
        {
            if (entry.State == EntityState.Unchanged) continue;
            if (entry.State != EntityState.Modified || !Writable(entry)) return false;
            (modified ??= []).Add(entry);
        }
        if (modified is null) return true;
        foreach (var entry in modified) Update(db, entry);
        db.ChangeTracker.AcceptAllChanges();
        return true;
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
        var shape = Shapes.GetOrAdd((type, changed), static (key, properties) => ShapeOf(key.Item1, properties, key.Item2), properties);

        using var command = new RawCommand(db, shape.Sql);
        var n = 0;
        foreach (var p in shape.Set) Bind(p, internalEntry.GetCurrentValue(p));
        foreach (var p in shape.Where) Bind(p, p.IsPrimaryKey() ? internalEntry.GetCurrentValue(p) : internalEntry.GetOriginalValue(p));
        var rows = command.Execute();
        if (rows != 1)
            throw new DbUpdateConcurrencyException(
                $"The {type.DisplayName()} row was changed or deleted since it was read ({rows} rows matched its key and concurrency token).");

        void Bind(IProperty p, object? value) => command.Bind(p.GetRelationalTypeMapping(), "@p" + n++, value, p.IsNullable);
    }

    private static Shape ShapeOf(IEntityType type, IProperty[] properties, ulong changed)
    {
        var set = properties.Where((_, i) => (changed & (1UL << i)) != 0).ToArray();
        var where = type.FindPrimaryKey()!.Properties.Concat(properties.Where(p => p.IsConcurrencyToken && !p.IsPrimaryKey())).ToArray();
        var sql = new StringBuilder($"UPDATE \"{type.GetTableName()}\" SET ");
        var n = 0;
        sql.AppendJoin(", ", set.Select(p => $"\"{p.GetColumnName()}\" = @p{n++}"));
        sql.Append(" WHERE ").AppendJoin(" AND ", where.Select(p => $"\"{p.GetColumnName()}\" = @p{n++}"));
        return new Shape(sql.ToString(), set, where);
    }
}
