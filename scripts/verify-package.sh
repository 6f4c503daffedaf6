#!/usr/bin/env bash
# Packs the library and runs the README quick start, verbatim, in a separate console app that references the
# .nupkg (not the project), so what users install and copy is what is checked.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

dotnet pack "$root/src/Multichat.Persistence" -c Release -o "$work/feed" -nologo -v quiet
version=$(ls "$work/feed" | sed -n 's/^Multichat\.Persistence\.\(.*\)\.nupkg$/\1/p' | head -n 1)

mkdir -p "$work/app"
cat > "$work/app/QuickStart.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <ImplicitUsings>enable</ImplicitUsings>
    <Nullable>enable</Nullable>
    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Multichat.Persistence" Version="$version" />
  </ItemGroup>
</Project>
XML
# The snippet: the first csharp block after "## Quick start" in README.md; its using lines go first.
snippet=$(awk '/^## Quick start/ { section = 1 } section && /^```csharp/ { inside = 1; next } inside && /^```/ { exit } inside { print }' "$root/README.md")
[ -n "$snippet" ] || { echo "verify-package: no csharp block under '## Quick start' in README.md" >&2; exit 1; }
{
  printf '%s\n' "$snippet" | grep '^using '
  while IFS= read -r line; do
    if [ "$line" = "// {README quick start}" ]; then
      printf '%s\n' "$snippet" | grep -v '^using '
    else
      printf '%s\n' "$line"
    fi
  done < "$root/scripts/quickstart/Program.cs"
} > "$work/app/Program.cs"
# Keep the app out of the repository's Directory.*.props by building it where they are not found.
cat > "$work/app/nuget.config" <<XML
<configuration>
  <packageSources>
    <add key="local" value="$work/feed" />
  </packageSources>
</configuration>
XML
cd "$work/app"
# A private package cache: the global one would serve a stale package of the same version from an earlier run.
NUGET_PACKAGES="$work/packages" dotnet run -nologo -v quiet
