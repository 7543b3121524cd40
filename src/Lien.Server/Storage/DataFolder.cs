using Microsoft.Data.Sqlite;

namespace Lien.Server.Storage;

/// <summary>
/// The data folder (<c>Lien:DataDir</c>) holds the SQLite database, the generated master key and the demo's admin key:
/// secrets, all of them. The folder is its owner's alone (0700) and so is every file Lien writes (0600). SQLite gives
/// the <c>-wal</c> and <c>-shm</c> files the database file's own mode, so the database is made 0600 before SQLite first
/// opens it. A folder or file found with looser modes is tightened at start, and that is said in one log line.
/// </summary>
internal sealed class DataFolder(string path, string? sqliteDatabase)
{
    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
                                        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>The files Lien writes in the folder, besides the database.</summary>
    public const string MasterKeyFile = "master.key";
    public const string DemoKeyFile = "demo-api-key.txt";
    public const string DemoConsoleFile = "demo-console-login.txt";

    public string Path { get; } = path;

    /// <summary>The SQLite database file (under <see cref="Path"/> unless a connection string names another), or null.</summary>
    public string? SqliteDatabase { get; } = sqliteDatabase;

    /// <summary>The SQLite file a connection string names; null for an in-memory database or a URI filename.</summary>
    public static string? DatabaseFile(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        return builder.Mode != SqliteOpenMode.Memory && builder.DataSource is { Length: > 0 } source && source != ":memory:"
               && !source.StartsWith("file:", StringComparison.Ordinal)
            ? System.IO.Path.GetFullPath(source)
            : null;
    }

    /// <summary>
    /// Run at start, before the database is opened: makes the folder if Lien keeps its database there, tightens what is
    /// looser than owner-only, and makes a new SQLite database file 0600 so its WAL files are born 0600 too.
    /// </summary>
    public void Secure(ILogger log)
    {
        if (OperatingSystem.IsWindows()) return; // ACLs, not modes: the folder's inherited ACL is the operator's choice
        var tightened = new List<string>();
        if (SqliteDatabase is not null && System.IO.Path.GetDirectoryName(SqliteDatabase) == Path) Create();
        if (Directory.Exists(Path) && Tighten(Path) is { } folderWas) tightened.Add($"{Path} ({folderWas})");
        var files = new List<string> { File(MasterKeyFile), File(DemoKeyFile), File(DemoConsoleFile) };
        if (SqliteDatabase is not null)
        {
            // SQLite takes an empty file as an empty database; a folder named by a connection string is the operator's to make.
            if (!System.IO.File.Exists(SqliteDatabase) && Directory.Exists(System.IO.Path.GetDirectoryName(SqliteDatabase))) CreateFile(SqliteDatabase, []);
            files.AddRange([SqliteDatabase, SqliteDatabase + "-wal", SqliteDatabase + "-shm", SqliteDatabase + "-journal"]);
        }
        foreach (var file in files)
            if (System.IO.File.Exists(file) && Tighten(file) is { } fileWas) tightened.Add($"{file} ({fileWas})");
        if (tightened.Count > 0)
            log.LogWarning("Made owner-only (0700 folder, 0600 files), as they hold secrets; they were open to others: {Paths}",
                string.Join(", ", tightened));
    }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Writes <paramref name="name"/> in the folder, owner-only from the moment it exists.</summary>
    public async Task WriteAsync(string name, byte[] content, CancellationToken ct = default)
    {
        Create();
        var file = File(name);
        await using (var stream = Open(file, FileMode.Create))
            await stream.WriteAsync(content, ct);
        if (!OperatingSystem.IsWindows()) System.IO.File.SetUnixFileMode(file, OwnerOnlyFile); // it may have existed, with its own mode
    }

    /// <summary>Writes <paramref name="name"/> in the folder, which must not exist yet (a generated key), owner-only from the moment it exists.</summary>
    public void WriteNew(string name, ReadOnlySpan<byte> content)
    {
        Create();
        CreateFile(File(name), content);
    }

    private static void CreateFile(string file, ReadOnlySpan<byte> content)
    {
        using var stream = Open(file, FileMode.CreateNew);
        stream.Write(content);
    }

    private void Create()
    {
        if (Directory.Exists(Path)) return;
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(Path);
        else Directory.CreateDirectory(Path, OwnerOnlyFolder);
    }

    private static FileStream Open(string file, FileMode mode)
    {
        var options = new FileStreamOptions { Mode = mode, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = OwnerOnlyFile;
        return new FileStream(file, options);
    }

    // The mode it had, when it gave anything to others; null when it was owner-only already.
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static string? Tighten(string path)
    {
        var mode = System.IO.File.GetUnixFileMode(path);
        if ((mode & Others) == 0) return null;
        System.IO.File.SetUnixFileMode(path, mode & ~Others);
        return Convert.ToString((int)mode, 8).PadLeft(4, '0');
    }
}
