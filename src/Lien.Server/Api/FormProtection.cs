namespace Lien.Server.Api;

/// <summary>
/// The one antiforgery setting of the server's HTML forms — the pay page's and the console's alike. ASP.NET Core keeps one
/// set of antiforgery options per application, so each capability asking for its own cookie path or field name would
/// silently take the other's (the console's cookie path once hid the pay page's token from its own forms).
/// </summary>
internal static class FormProtection
{
    public const string FieldName = "__lien_af";

    public static IServiceCollection AddFormProtection(this IServiceCollection services) => services.AddAntiforgery(o =>
    {
        o.Cookie.Name = "lien-af";
        o.Cookie.Path = "/";
        o.Cookie.SameSite = SameSiteMode.Strict;
        o.FormFieldName = FieldName;
        o.SuppressXFrameOptionsHeader = true; // every page sends X-Frame-Options DENY and frame-ancestors 'none' itself
    });
}
