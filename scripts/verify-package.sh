#!/usr/bin/env bash
# Packs the library and runs the README quick start, verbatim, in a separate console app that references the
# .nupkg (not the project), so what users install and copy is what is checked.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

dotnet pack "$root/src/Multichat.Persistence" -c Release -o "$work/feed" -nologo -v quiet
version=$(ls "$work/feed" | sed -n 's/^Multichat\.Persistence\.\(.*\)\.nupkg$/\1/p' | head -n 1)

# The snippet: the first csharp block after "## Quick start" in README.md; its using lines go first.
snippet=$(awk '/^## Quick start/ { section = 1 } section && /^```csharp/ { inside = 1; next } inside && /^```/ { exit } inside { print }' "$root/README.md")
[ -n "$snippet" ] || { echo "verify-package: no csharp block under '## Quick start' in README.md" >&2; exit 1; }

# One consumer app: its target framework, then the Microsoft.Extensions.* packages it references itself (name=version),
# as an application on that line would; a package whose floors were above them fails to restore (NU1605).
consumer() {
  local tfm=$1; shift
  local app="$work/app-$tfm"
  mkdir -p "$app"
  {
    cat <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>$tfm</TargetFramework>
    <ImplicitUsings>enable</ImplicitUsings>
    <Nullable>enable</Nullable>
    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
    <!-- A downgrade is an error, as it is by default; said here so nobody turns it into a warning. -->
    <WarningsAsErrors>NU1605</WarningsAsErrors>
    <!-- This machine has only the newest runtime: an app for an older target runs on it by rolling forward. -->
    <RollForward>Major</RollForward>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Multichat.Persistence" Version="$version" />
XML
    for reference in "$@"; do
      echo "    <PackageReference Include=\"${reference%%=*}\" Version=\"${reference#*=}\" />"
    done
    cat <<XML
  </ItemGroup>
</Project>
XML
  } > "$app/QuickStart.csproj"
  {
    printf '%s\n' "$snippet" | grep '^using '
    while IFS= read -r line; do
      if [ "$line" = "// {README quick start}" ]; then
        printf '%s\n' "$snippet" | grep -v '^using '
      else
        printf '%s\n' "$line"
      fi
    done < "$root/scripts/quickstart/Program.cs"
  } > "$app/Program.cs"
  # Keep the app out of the repository's Directory.*.props by building it where they are not found.
  cat > "$app/nuget.config" <<XML
<configuration>
  <packageSources>
    <add key="local" value="$work/feed" />
  </packageSources>
</configuration>
XML
  echo "-- consumer $tfm${*:+ with $*}"
  # A private package cache: the global one would serve a stale package of the same version from an earlier run.
  (cd "$app" && NUGET_PACKAGES="$work/packages" dotnet run -nologo -v quiet)
}

consumer net10.0
consumer net10.0 Microsoft.Extensions.Configuration=10.0.0 Microsoft.Extensions.DependencyInjection=10.0.0 Microsoft.Extensions.Logging=10.0.0
consumer net8.0 Microsoft.Extensions.Configuration=8.0.0 Microsoft.Extensions.DependencyInjection=8.0.0 Microsoft.Extensions.Logging=8.0.0
