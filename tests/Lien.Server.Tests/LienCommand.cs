using Lien.Cli;

namespace Lien.Server.Tests;

/// <summary>The <c>lien</c> command run in-process, as an operator would type it: its exit code and what it wrote.</summary>
internal static class LienCommand
{
    public static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await LienCli.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
