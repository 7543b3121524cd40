// How every bench answers its command line (compile-included by each bench that parses options): --help prints the
// options and exits 0; a bad option or value is one plain line on standard error and exit code 2, never a stack trace.
using System.Diagnostics.CodeAnalysis;

namespace Lien.Bench;

internal static class CommandLine
{
    /// <summary>Prints <paramref name="usage"/> and exits 0 when <paramref name="args"/> ask for help.</summary>
    public static void HelpIfAsked(string[] args, string usage)
    {
        if (!args.Contains("--help") && !args.Contains("-h")) return;
        Console.WriteLine("Options: " + usage);
        Environment.Exit(0);
    }

    /// <summary>A bad command line: <paramref name="message"/> on standard error, exit code 2.</summary>
    [DoesNotReturn]
    public static void Refuse(string message)
    {
        Console.Error.WriteLine("error: " + message);
        Environment.Exit(2);
    }
}
