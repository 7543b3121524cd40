namespace Lien.Server.Api;

/// <summary>Reading the forms of callbacks and pages.</summary>
internal static class FormFields
{
    /// <summary>A form field given once, or null (missing, or given twice).</summary>
    public static string? Field(this IFormCollection form, string name) => form.TryGetValue(name, out var v) && v.Count == 1 ? v[0] : null;
}
