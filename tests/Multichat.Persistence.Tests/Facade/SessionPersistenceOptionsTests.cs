using FluentAssertions;
using Microsoft.Extensions.Options;

namespace Multichat.Persistence.Tests.Facade;

public sealed class SessionPersistenceOptionsTests
{
    [Fact]
    public void Defaults_AreTheDocumentedOnes()
    {
        var options = new SessionPersistenceOptions();

        options.StorageType.Should().Be(StorageType.Json);
        options.StoragePath.Should().Be("sessions");
        options.RedisKeyPrefix.Should().Be("multichat:");
        options.Durability.Should().Be(Durability.Normal);
        options.MaxContentLength.Should().Be(1024 * 1024);
        options.CleanupDays.Should().BeNull();
        options.MaxSessions.Should().BeNull();
        options.MaxMessagesPerSession.Should().BeNull();
    }

    [Theory]
    [InlineData(nameof(SessionPersistenceOptions.CleanupDays))]
    [InlineData(nameof(SessionPersistenceOptions.MaxSessions))]
    [InlineData(nameof(SessionPersistenceOptions.MaxMessagesPerSession))]
    [InlineData(nameof(SessionPersistenceOptions.MaxContentLength))]
    [InlineData(nameof(SessionPersistenceOptions.MaxBatchSize))]
    public void Create_NonPositiveLimit_ThrowsNamingTheSetting(string setting)
    {
        var options = new SessionPersistenceOptions { StorageType = StorageType.Memory };
        typeof(SessionPersistenceOptions).GetProperty(setting)!.SetValue(options, 0);

        var act = () => SessionPersistence.Create(options);

        act.Should().Throw<OptionsValidationException>().WithMessage($"*{setting} is 0*");
    }

    [Fact]
    public void Create_UnknownStorageType_ThrowsNamingIt()
    {
        var act = () => SessionPersistence.Create(new SessionPersistenceOptions { StorageType = (StorageType)42 });

        act.Should().Throw<OptionsValidationException>().WithMessage("*StorageType*42*");
    }

    [Fact]
    public void Create_EmptyStoragePathForFiles_ThrowsNamingIt()
    {
        var act = () => SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Json, StoragePath = " " });

        act.Should().Throw<OptionsValidationException>().WithMessage("*StoragePath*");
    }

    [Fact]
    public async Task Methods_AfterDispose_ThrowObjectDisposed()
    {
        var persistence = SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Memory });
        await persistence.DisposeAsync();
        await persistence.DisposeAsync();

        var act = () => persistence.GetSessionAsync("s-1", TestContext.Current.CancellationToken);

        await act.Should().ThrowAsync<ObjectDisposedException>();
    }

    [Theory]
    [InlineData(StorageType.Json)]
    [InlineData(StorageType.Sqlite)]
    public void Validate_StoragePathIsAFile_FailsNamingIt(StorageType storageType)
    {
        var file = Path.GetTempFileName();
        try
        {
            var result = new SessionPersistenceOptionsValidator().Validate(null, new SessionPersistenceOptions { StorageType = storageType, StoragePath = file });

            result.Failed.Should().BeTrue();
            result.FailureMessage.Should().Contain("StoragePath").And.Contain("is a file");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("not a connection string")]
    [InlineData("Colour=blue")]
    public void Validate_SqliteConnectionStringUnusable_FailsNamingIt(string connectionString)
    {
        var result = new SessionPersistenceOptionsValidator().Validate(
            null, new SessionPersistenceOptions { StorageType = StorageType.Sqlite, ConnectionString = connectionString });

        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain("ConnectionString");
    }

    [Theory]
    [InlineData("sessions")]
    [InlineData("http://127.0.0.1:6379")]
    [InlineData("redis://127.0.0.1:6379/zero")]
    public void Validate_RedisStoragePathNotARedisUrl_FailsNamingTheForm(string path)
    {
        var result = new SessionPersistenceOptionsValidator().Validate(null, new SessionPersistenceOptions { StorageType = StorageType.Redis, StoragePath = path });

        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain("redis://host");
    }

    [Fact]
    public void Validate_RedisUrl_Succeeds()
    {
        var result = new SessionPersistenceOptionsValidator().Validate(
            null, new SessionPersistenceOptions { StorageType = StorageType.Redis, StoragePath = "redis://127.0.0.1:6379/2" });

        result.Succeeded.Should().BeTrue();
    }

    [Theory]
    [InlineData(nameof(SessionPersistenceOptions.JsonLockTimeout))]
    [InlineData(nameof(SessionPersistenceOptions.SqliteBusyTimeout))]
    [InlineData(nameof(SessionPersistenceOptions.RedisConnectTimeout))]
    [InlineData(nameof(SessionPersistenceOptions.RedisOperationTimeout))]
    public void Validate_ZeroTimeout_FailsNamingTheSetting(string setting)
    {
        var options = new SessionPersistenceOptions { StorageType = StorageType.Memory };
        typeof(SessionPersistenceOptions).GetProperty(setting)!.SetValue(options, TimeSpan.Zero);

        var result = new SessionPersistenceOptionsValidator().Validate(null, options);

        result.FailureMessage.Should().Contain($"{setting} is 00:00:00");
    }
}
