using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Lien.Server.Console.Pages;

internal sealed class IndexModel : PageModel
{
}
