using System.Collections.Concurrent;
using Lien.Server.Demo;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Lien.Server.Tests.Storage;

/// <summary>
/// The data folder holds the database, the master key and the demo's admin key: after a start (and the demo seed) the
/// folder is 0700 and every file in it 0600, whether the folder was new or left readable by others before.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // each test skips there, visibly
public sealed class DataFolderTests
{
    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Readable = OwnerOnlyFile | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    [Fact]
    public async Task Start_FreshDataFolder_FolderAndEveryFileOwnerOnly_DemoKeyToo()
    {
        if (OperatingSystem.IsWindows()) Assert.Skip("Unix file modes");
        await using var server = new ModesServer(prepare: null);
        await server.InitializeAsync();

        Assert.Equal(OwnerOnlyFolder, File.GetUnixFileMode(server.DataDir));
        foreach (var name in new[] { "lien.db", "lien.db-wal", "lien.db-shm", "master.key" })
            Assert.True(File.Exists(Path.Combine(server.DataDir, name)), $"{name} is missing: the test would prove nothing");
        AssertEveryFileOwnerOnly(server.DataDir);

        await DemoSeed.RunAsync(server.Services, TestContext.Current.CancellationToken);
        Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(Path.Combine(server.DataDir, "demo-api-key.txt")));
        AssertEveryFileOwnerOnly(server.DataDir);
        Assert.Empty(server.Warnings); // nothing to tighten in a folder Lien made
    }

    [Fact]
    public async Task Start_DataFolderReadableByOthers_TightenedAndSaidInOneLine()
    {
        if (OperatingSystem.IsWindows()) Assert.Skip("Unix file modes");
        string[] names = ["lien.db", "lien.db-wal", "lien.db-shm", "master.key", "demo-api-key.txt"];
        await using var server = new ModesServer(prepare: dir =>
        {
            Directory.CreateDirectory(dir);
            File.SetUnixFileMode(dir, OwnerOnlyFolder | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            foreach (var name in names)
            {
                var path = Path.Combine(dir, name);
                // An empty database (and WAL) is a new one to SQLite; the key is a key.
                File.WriteAllBytes(path, name == "master.key" ? System.Security.Cryptography.RandomNumberGenerator.GetBytes(32) : []);
                File.SetUnixFileMode(path, Readable);
            }
        });
        await server.InitializeAsync();

        Assert.Equal(OwnerOnlyFolder, File.GetUnixFileMode(server.DataDir));
        AssertEveryFileOwnerOnly(server.DataDir);
        var line = Assert.Single(server.Warnings);
        Assert.Contains(server.DataDir + " (0755)", line);
        foreach (var name in names) Assert.Contains(Path.Combine(server.DataDir, name) + " (0644)", line);
        await server.NewLenderAsync(); // and the server works on the database it found
    }

    [Theory]
    [InlineData("Data Source=/srv/lien/lien.db;Default Timeout=30", "/srv/lien/lien.db")]
    [InlineData("Data Source=:memory:", null)]
    [InlineData("Data Source=shared;Mode=Memory;Cache=Shared", null)]
    [InlineData("Data Source=file:lien.db?mode=rwc", null)]
    public void DatabaseFile_ConnectionString_TheFileSqliteOpens(string connectionString, string? expected) =>
        Assert.Equal(expected, DataFolder.DatabaseFile(connectionString));

    private static void AssertEveryFileOwnerOnly(string dir)
    {
        foreach (var file in Directory.GetFiles(dir))
            Assert.True(File.GetUnixFileMode(file) == OwnerOnlyFile, $"{Path.GetFileName(file)} is {File.GetUnixFileMode(file)}");
    }

    /// <summary>A SQLite server on a data folder the test prepares (or leaves absent), with a generated master key file.</summary>
    private sealed class ModesServer(Action<string>? prepare) : LienServer(Store.Sqlite)
    {
        public string DataDir { get; } = Path.Combine(Path.GetTempPath(), "lien-modes-" + Guid.NewGuid().ToString("N"));
        private readonly ConcurrentQueue<string> _warnings = new();
        public IReadOnlyCollection<string> Warnings => _warnings;

        protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings => [new("Lien:DataDir", DataDir), new("Lien:MasterKey", "")];

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureLogging(l => l.AddProvider(new Capture(_warnings)));
        }

        public override async ValueTask InitializeAsync()
        {
            prepare?.Invoke(DataDir);
            await base.InitializeAsync();
        }

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            if (Directory.Exists(DataDir)) Directory.Delete(DataDir, recursive: true);
        }
    }

    private sealed class Capture(ConcurrentQueue<string> lines) : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => categoryName == typeof(DataFolder).FullName ? this : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) lines.Enqueue(formatter(state, exception));
        }
        public void Dispose() { }
    }
}
