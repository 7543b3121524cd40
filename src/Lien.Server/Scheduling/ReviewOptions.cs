namespace Lien.Server.Scheduling;

/// <summary>How the scheduler looks for due plans (configured under <c>Lien:Review</c>).</summary>
internal sealed class ReviewOptions
{
    /// <summary>How often the scheduler looks for plans whose next review instant has come.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(15);
    public int BatchSize { get; set; } = 200;
}
