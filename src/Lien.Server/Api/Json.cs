using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lien.Server.Api;

internal static class Json
{
    public static readonly JsonSerializerOptions Options = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static JsonSerializerOptions Configure(JsonSerializerOptions o)
    {
        // Strict reading: an amount is a JSON number, not "100" (the Web defaults read numbers from strings); an enum
        // is one of its names, not a number; a field given twice is refused rather than read as its last value.
        o.Converters.Add(new JsonStringEnumConverter(allowIntegerValues: false));
        o.NumberHandling = JsonNumberHandling.Strict;
        o.AllowDuplicateProperties = false;
        o.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        return o;
    }
}
