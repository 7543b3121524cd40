using System.CommandLine;

namespace Lien.Cli;

/// <summary><c>lien codes …</c>: offline unlock code tools (OpenPAYGO Token).</summary>
internal static class CodesCommands
{
    public static Command Create() => new("codes", "Offline unlock codes (OpenPAYGO Token)");
}
