using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Lien.Server.Storage;

/// <summary>
/// A hand-written statement for a hot path, on the context's connection and in its current transaction (on SQLite, the
/// writer's group-commit transaction). Parameters and columns go through the model's own type mapping for the property
/// they stand for, so one SQL text serves both databases: a Guid is TEXT on SQLite and uuid on PostgreSQL, an instant
/// is integer ticks on SQLite and timestamptz on PostgreSQL, exactly as EF writes them.
/// </summary>
internal sealed class RawCommand<TEntity> : IDisposable where TEntity : class
{
    private readonly LienDb _db;
    private readonly DbCommand _command;
    private readonly SqliteWriter? _writer; // on SQLite: the writer whose kept statements run this one

    public RawCommand(LienDb db, string sql)
    {
        _db = db;
        _writer = db.IsSqlite ? SqliteWriter.Of(db) : null;
        _command = db.Database.GetDbConnection().CreateCommand();
        _command.CommandText = sql;
        _command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException("A raw command runs inside a unit of work (InTransactionAsync).");
    }

    /// <summary>Binds <c>@{property}</c> as <typeparamref name="TEntity"/>'s <paramref name="property"/> is stored.</summary>
    public RawCommand<TEntity> With(string property, object? value)
    {
        _command.Parameters.Add(Mapping(property).CreateParameter(_command, "@" + property, value, nullable: value is null));
        return this;
    }

    // On SQLite the statement runs prepared, on the writer's kept twin of this command (SqliteStatements).
    public Task<int> ExecuteAsync(CancellationToken ct) =>
        _writer?.ExecuteKeptNonQuery(_command) is { } rows ? Task.FromResult(rows) : _command.ExecuteNonQueryAsync(ct);

    public Task<DbDataReader> ReadAsync(CancellationToken ct) =>
        _writer?.ExecuteKept(_command) is { } reader ? Task.FromResult<DbDataReader>(reader) : _command.ExecuteReaderAsync(ct);

    /// <summary>Column <paramref name="ordinal"/> of <paramref name="reader"/>, read back as the model reads <paramref name="property"/>.</summary>
    public T Column<T>(DbDataReader reader, int ordinal, string property) =>
        Mapping(property).Converter is { } converter ? (T)converter.ConvertFromProvider(reader.GetValue(ordinal))! : reader.GetFieldValue<T>(ordinal);

    private RelationalTypeMapping Mapping(string property) =>
        (_db.Model.FindEntityType(typeof(TEntity))?.FindProperty(property)
            ?? throw new InvalidOperationException($"{typeof(TEntity).Name} has no property {property}.")).GetRelationalTypeMapping();

    public void Dispose() => _command.Dispose();
}
