#!/usr/bin/env bash
# Packs the libraries, checks what a user sees of each package (license, links, symbols, source link), and runs each
# README quick start, verbatim, in a separate console app that references the .nupkg (not the project), so what
# users install and copy is what is checked.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for project in Multichat.Persistence Multichat.Persistence.AgentFramework; do
  dotnet pack "$root/src/$project" -c Release -o "$work/feed" -nologo -v quiet
done
version=$(ls "$work/feed" | sed -n 's/^Multichat\.Persistence\.\([0-9].*\)\.nupkg$/\1/p' | head -n 1)
commit=$(git -C "$root" rev-parse HEAD)

fail() { echo "verify-package: $*" >&2; exit 1; }

# What the package page and a debugger show: the nuspec's license, project and repository (with the commit),
# release notes; a README whose every link leads somewhere; a .snupkg whose PDBs link sources to that commit.
check_package() {
  local id=$1 nupkg="$work/feed/$1.$version.nupkg" snupkg="$work/feed/$1.$version.snupkg"
  echo "-- package $id"
  [ -f "$snupkg" ] || fail "$id: no symbols package (.snupkg)"
  local nuspec
  nuspec=$(unzip -p "$nupkg" "$id.nuspec")
  local url
  url=$(sed -n 's|.*<projectUrl>\(.*\)</projectUrl>.*|\1|p' <<<"$nuspec")
  [ -n "$url" ] || fail "$id: no project URL"
  grep -q '<license type="expression">MIT</license>' <<<"$nuspec" || fail "$id: no MIT license expression"
  grep -q "<repository type=\"git\" url=\"$url\"[^>]*commit=\"$commit\"" <<<"$nuspec" || fail "$id: repository URL or commit missing"
  grep -q '<releaseNotes>.' <<<"$nuspec" || fail "$id: no release notes"
  grep -q '<readme>README.md</readme>' <<<"$nuspec" || fail "$id: no README"
  # Every link is absolute; those into this repository name a file that exists at the commit built.
  local link
  while IFS= read -r link; do
    case "$link" in
      "$url/blob/$commit/"*)
        local path=${link#"$url/blob/$commit/"}
        path=${path%%#*}
        path=$(realpath -m --relative-to="$root" "$root/$path")
        git -C "$root" cat-file -e "$commit:$path" 2>/dev/null || fail "$id: README link to '$path', which is not in commit $commit"
        ;;
      http://* | https://* | '#'*) ;;
      *) fail "$id: README link '$link' leads nowhere on a package page" ;;
    esac
  done < <(unzip -p "$nupkg" README.md | grep -o '](\([^)]*\))' | sed 's/^](\(.*\))$/\1/')
  mkdir -p "$work/symbols/$id"
  unzip -q -o "$snupkg" -d "$work/symbols/$id"
  local pdb
  for pdb in "$work/symbols/$id"/lib/*/*.pdb; do
    grep -a -q "https://raw.githubusercontent.com/${url#https://github.com/}/$commit/" "$pdb" || fail "$id: $(basename "$(dirname "$pdb")") PDB has no source link to $commit"
  done
}

check_package Multichat.Persistence
check_package Multichat.Persistence.AgentFramework

# The csharp block after "## Quick start" in a README.
snippet_of() {
  awk '/^## Quick start/ { section = 1 } section && /^```csharp/ { inside = 1; next } inside && /^```/ { exit } inside { print }' "$1"
}

# One consumer app: a name, its target framework, the program template, the README whose snippet replaces the
# template's marker, then the packages it references (name=version), as an application would; a package whose floors
# were above them fails to restore (NU1605).
consumer() {
  local name=$1 tfm=$2 template=$3 readme=$4; shift 4
  local app="$work/app-$name-$tfm"
  local snippet
  snippet=$(snippet_of "$readme")
  [ -n "$snippet" ] || fail "no csharp block under '## Quick start' in $readme"
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
    done < "$template"
  } > "$app/Program.cs"
  # Keep the app out of the repository's Directory.*.props by building it where they are not found.
  cat > "$app/nuget.config" <<XML
<configuration>
  <packageSources>
    <add key="local" value="$work/feed" />
  </packageSources>
</configuration>
XML
  echo "-- consumer $name $tfm${*:+ with $*}"
  # A private package cache: the global one would serve a stale package of the same version from an earlier run.
  (cd "$app" && NUGET_PACKAGES="$work/packages" dotnet run -nologo -v quiet)
}

core="Multichat.Persistence=$version"
consumer core net10.0 "$root/scripts/quickstart/Program.cs" "$root/README.md" "$core"
consumer core net10.0 "$root/scripts/quickstart/Program.cs" "$root/README.md" "$core" \
  Microsoft.Extensions.Configuration=10.0.0 Microsoft.Extensions.DependencyInjection=10.0.0 Microsoft.Extensions.Logging=10.0.0
consumer core net8.0 "$root/scripts/quickstart/Program.cs" "$root/README.md" "$core" \
  Microsoft.Extensions.Configuration=8.0.0 Microsoft.Extensions.DependencyInjection=8.0.0 Microsoft.Extensions.Logging=8.0.0
agents=$(sed -n 's|.*Include="Microsoft.Agents.AI" Version="\([^"]*\)".*|\1|p' "$root/Directory.Packages.props")
consumer agents net10.0 "$root/scripts/agent-quickstart/Program.cs" "$root/src/Multichat.Persistence.AgentFramework/README.md" \
  "Multichat.Persistence.AgentFramework=$version" "Microsoft.Agents.AI=$agents"
