using System.CommandLine;

namespace Lien.Cli;

/// <summary>The <c>lien</c> command: the lender API through the client library, plus offline tools.</summary>
public static class LienCli
{
    /// <summary>Builds the command tree.</summary>
    public static RootCommand Build()
    {
        var root = new RootCommand("lien: Lien device financing locks — API client and offline tools");
        foreach (var option in ApiCommands.GlobalOptions) root.Options.Add(option);
        foreach (var command in ApiCommands.Create()) root.Subcommands.Add(command);
        root.Subcommands.Add(CodesCommands.Create());
        root.Subcommands.Add(AttestationCommands.Create());
        root.Subcommands.Add(SimulatorCommands.Create());
        return root;
    }

    /// <summary>Runs the command line with the given writers; returns the process exit code.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error) =>
        Build().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
}
