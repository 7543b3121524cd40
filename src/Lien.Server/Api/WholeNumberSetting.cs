using System.Globalization;

namespace Lien.Server.Api;

/// <summary>
/// A whole-number setting read at start (<c>Lien:Sqlite:MinThreads</c>, <c>Lien:ApiKeys:CacheSeconds</c>): read by hand
/// rather than bound, so a value out of range or not a number stops the start with one line naming it, not a 500 later.
/// </summary>
internal sealed record WholeNumberSetting(string Key, int Min, int Max, int Default, string Unit = "")
{
    /// <summary>The value, <see cref="Default"/> when unset, null when it cannot work (<see cref="Problem"/> says why).</summary>
    public int? Value(IConfiguration config) =>
        config[Key] is not { } setting ? Default
        : int.TryParse(setting, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= Min && n <= Max ? n : null;

    /// <summary>What is wrong with the setting, in one sentence, or null: the server does not start with it.</summary>
    public string? Problem(IConfiguration config) =>
        Value(config) is null ? $"{Key} '{config[Key]}' must be a whole number {Unit}from {Min} to {Max} (default {Default})." : null;
}
