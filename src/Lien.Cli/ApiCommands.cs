using System.CommandLine;

namespace Lien.Cli;

/// <summary>Commands that call a Lien server's lender API.</summary>
internal static class ApiCommands
{
    public static IEnumerable<Command> Create() => [];
}
