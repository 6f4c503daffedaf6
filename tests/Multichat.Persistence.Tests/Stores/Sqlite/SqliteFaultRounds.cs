using System.Globalization;

namespace Multichat.Persistence.Tests.Stores.Sqlite;

/// <summary>
/// How many rounds the fault campaigns run: a small number in the normal suite, more with
/// <c>MULTICHAT_FAULT_ROUNDS</c> (e.g. 500 for a night run). The seed is printed so a failure can be replayed with
/// <c>MULTICHAT_FAULT_SEED</c>.
/// </summary>
internal static class SqliteFaultRounds
{
    public static int Get(int normal) =>
        int.TryParse(Environment.GetEnvironmentVariable("MULTICHAT_FAULT_ROUNDS"), NumberStyles.None, CultureInfo.InvariantCulture, out var rounds) && rounds > 0
            ? rounds
            : normal;

    public static int Seed() =>
        int.TryParse(Environment.GetEnvironmentVariable("MULTICHAT_FAULT_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed)
            ? seed
            : Environment.TickCount;
}
