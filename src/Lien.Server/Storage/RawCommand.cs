using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Lien.Server.Storage;

/// <summary>
/// A hand-written statement for a hot path, on the context's connection and in its current transaction (on SQLite, the
/// writer's group-commit transaction, where it runs on the writer's kept prepared twin, <see cref="SqliteStatements"/>).
/// Each parameter goes through a model type mapping, so one SQL text serves both databases: a Guid is TEXT on SQLite and
/// uuid on PostgreSQL, an instant is integer ticks on SQLite and timestamptz on PostgreSQL, exactly as EF writes them.
/// <see cref="RawCommand{TEntity}"/> binds by an entity's property name; <see cref="RawInsert"/> and
/// <see cref="RawUpdates"/> bind the mappings of the properties they write.
/// </summary>
internal class RawCommand : IDisposable
{
    private readonly DbCommand _command;
    private readonly SqliteWriter? _writer; // on SQLite: the writer whose kept statements run this one

    protected LienDb Db { get; }

    /// <param name="db">The context whose connection (and unit of work's transaction) the statement runs on.</param>
    /// <param name="sql">The statement; its parameters are bound by <see cref="Bind"/>.</param>
    /// <param name="alone">
    /// A PostgreSQL statement that is the whole of its change, atomic by itself, run on the context's open connection with
    /// no transaction around it (the caller opens the connection); otherwise the statement runs inside a unit of work.
    /// </param>
    public RawCommand(LienDb db, string sql, bool alone = false)
    {
        Db = db;
        _writer = db.IsSqlite ? SqliteWriter.Of(db) : null;
        _command = db.Database.GetDbConnection().CreateCommand();
        _command.CommandText = sql;
        // On PostgreSQL in a unit whose transaction is deferred, the transaction is begun now (PostgresWrites.TransactionFor).
        _command.Transaction = db.IsSqlite || alone ? db.Database.CurrentTransaction?.GetDbTransaction() : PostgresWrites.TransactionFor(db);
        if (_command.Transaction is null && !(alone && !db.IsSqlite))
            throw new InvalidOperationException("A raw command runs inside a unit of work (InTransactionAsync).");
    }

    /// <summary>Binds <paramref name="name"/> to <paramref name="value"/> as <paramref name="mapping"/> stores it.</summary>
    public void Bind(RelationalTypeMapping mapping, string name, object? value, bool nullable) =>
        _command.Parameters.Add(mapping.CreateParameter(_command, name, value, nullable: nullable || value is null));

    public async Task<int> ExecuteAsync(CancellationToken ct)
    {
        if (_writer?.ExecuteKeptNonQuery(_command) is { } rows) return rows;
        await Db.PostgresWrites.FlushAsync(Db, ct); // what the unit wrote before this runs before it
        return await _command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The same, for a caller that cannot wait (SQLite runs it synchronously whichever is called).</summary>
    public int Execute()
    {
        if (_writer?.ExecuteKeptNonQuery(_command) is { } rows) return rows;
        Db.PostgresWrites.Flush(Db);
        return _command.ExecuteNonQuery();
    }

    public async Task<DbDataReader> ReadAsync(CancellationToken ct)
    {
        if (_writer?.ExecuteKept(_command) is { } reader) return reader;
        await Db.PostgresWrites.FlushAsync(Db, ct);
        return await _command.ExecuteReaderAsync(ct);
    }

    public void Dispose() => _command.Dispose();
}

/// <summary>A <see cref="RawCommand"/> whose parameters and columns are <typeparamref name="TEntity"/>'s properties, by name.</summary>
internal sealed class RawCommand<TEntity>(LienDb db, string sql, bool alone = false) : RawCommand(db, sql, alone) where TEntity : class
{
    /// <summary>Binds <c>@{property}</c> as <typeparamref name="TEntity"/>'s <paramref name="property"/> is stored.</summary>
    public RawCommand<TEntity> With(string property, object? value)
    {
        Bind(Mapping(property), "@" + property, value, nullable: false);
        return this;
    }

    /// <summary>Column <paramref name="ordinal"/> of <paramref name="reader"/>, read back as the model reads <paramref name="property"/>.</summary>
    public T Column<T>(DbDataReader reader, int ordinal, string property) =>
        Mapping(property).Converter is { } converter ? (T)converter.ConvertFromProvider(reader.GetValue(ordinal))! : reader.GetFieldValue<T>(ordinal);

    private RelationalTypeMapping Mapping(string property) =>
        (Db.Model.FindEntityType(typeof(TEntity))?.FindProperty(property)
            ?? throw new InvalidOperationException($"{typeof(TEntity).Name} has no property {property}.")).GetRelationalTypeMapping();
}
