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
}
