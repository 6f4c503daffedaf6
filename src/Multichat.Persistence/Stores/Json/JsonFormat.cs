using System.Text.Json;
using Multichat.Persistence.Internal;

namespace Multichat.Persistence.Stores.Json;

/// <summary><c>{root}/format.json</c>: written by the first instance that opens a folder, checked by every one.</summary>
internal static class JsonFormat
{
    public static void Ensure(string root, FileCreator files)
    {
        var path = Path.Combine(root, "format.json");
        if (!File.Exists(path))
        {
            // Written aside and moved in without overwriting, so two processes creating the store at once agree.
            var temp = $"{path}.{Guid.NewGuid():N}.tmp";
            files.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(
                new JsonFormatDocument { Format = JsonFormatDocument.Name, Version = JsonFormatDocument.CurrentVersion }, JsonStoreContext.Json.JsonFormatDocument));
            try
            {
                File.Move(temp, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
            }
            finally
            {
                File.Delete(temp);
            }
        }

        JsonFormatDocument? format;
        try
        {
            format = JsonSerializer.Deserialize(File.ReadAllBytes(path), JsonStoreContext.Json.JsonFormatDocument);
        }
        catch (JsonException ex)
        {
            throw new StoreCorruptedException($"'{path}' is not valid JSON, so the folder's format is unknown; restore it or point StoragePath elsewhere.", ex);
        }

        if (format is null || format.Format != JsonFormatDocument.Name || format.Version != JsonFormatDocument.CurrentVersion)
        {
            throw new StoreCorruptedException(
                $"'{path}' declares format '{format?.Format}' version {format?.Version}; this version of Multichat.Persistence reads '{JsonFormatDocument.Name}' version {JsonFormatDocument.CurrentVersion}. Open the folder with the version that wrote it, or point StoragePath elsewhere.");
        }
    }
}
