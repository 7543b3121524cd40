return await Lien.Cli.LienCli.RunAsync(args, Console.Out, Console.Error);
