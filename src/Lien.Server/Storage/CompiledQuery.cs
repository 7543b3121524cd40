using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Lien.Server.Storage;

/// <summary>
/// A hot path's query compiled once per model (<c>EF.CompileAsyncQuery</c> binds to the first model it runs against,
/// and SQLite and PostgreSQL each have their own): no expression tree is built or looked up when it runs.
/// </summary>
internal sealed class CompiledQuery<TQuery>(Func<TQuery> compile) where TQuery : class
{
    private readonly ConditionalWeakTable<IModel, TQuery> _byModel = [];

    /// <summary>The query compiled for <paramref name="db"/>'s model.</summary>
    public TQuery For(LienDb db) => _byModel.GetValue(db.Model, _ => compile());
}
