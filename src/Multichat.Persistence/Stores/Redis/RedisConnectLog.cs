namespace Multichat.Persistence.Stores.Redis;

/// <summary>
/// The log of one connection attempt, read only for one thing: whether a server refused the authentication. The
/// attempt itself reports that too (a <c>RedisConnectionException</c> of failure type <c>AuthenticationFailure</c>),
/// but only after its retries, seconds later; this lets the callers that wait for it fail at once with the real
/// cause. Nothing of the text is kept.
/// </summary>
internal sealed class RedisConnectLog : TextWriter
{
    private readonly TaskCompletionSource _authenticationFailed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the attempt logged an authentication failure (never, otherwise).</summary>
    public Task AuthenticationFailed => _authenticationFailed.Task;

    public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

    public override void Write(char value)
    {
        // Single characters never carry the failure type; the connect log writes whole lines.
    }

    public override void Write(string? value) => Inspect(value);

    public override void WriteLine(string? value) => Inspect(value);

    private void Inspect(string? value)
    {
        if (value is not null && value.Contains("AuthenticationFailure", StringComparison.Ordinal))
        {
            _authenticationFailed.TrySetResult();
        }
    }
}
