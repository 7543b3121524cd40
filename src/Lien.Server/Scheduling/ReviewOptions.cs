namespace Lien.Server.Scheduling;

/// <summary>How the scheduler looks for due plans (configured under <c>Lien:Review</c>).</summary>
internal sealed class ReviewOptions
{
    /// <summary>How often the scheduler looks for plans whose next review instant has come.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(15);
    /// <summary>How many due plans one unit of work claims and reviews (on SQLite it holds the writer for the batch).</summary>
    public int BatchSize { get; set; } = 100;
}
