#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs redis-server (Debian package) when it is missing and this
# user may install, builds with warnings as errors, runs every test, then checks that the packed .nupkg serves the
# README quick start in a separate app. Used as-is by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "== installing redis-server (Debian package) for the Redis tests"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    echo "== installing redis-server (Debian package) for the Redis tests"
    sudo -n apt-get update -qq
    sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  else
    echo "== redis-server is missing and cannot be installed here: Redis tests will skip (with CI=true they fail)."
  fi
fi

echo "== build (warnings are errors)"
dotnet build Multichat.Persistence.sln -c Release -warnaserror -nologo -v quiet

echo "== tests"
log=$(mktemp)
set +e
dotnet test Multichat.Persistence.sln -c Release --no-build -nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One plain summary line over all test assemblies, for readers of the log.
awk '/(Passed|Failed)! +- +Failed:/ { gsub(",", ""); f += $4; p += $6; s += $8 } END { printf "Tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
[ "$status" -eq 0 ] || exit "$status"

echo "== dependency floors: the Sqlite and Redis store tests against the package's lowest Microsoft.Data.Sqlite and StackExchange.Redis (net10.0)"
# Its own build under artifacts/floors/ (Directory.Build.props): bin/ and obj/ stay the usual build's. The analyzers
# ran in the build above; this one only compiles (still with warnings as errors).
started=$SECONDS
dotnet build tests/Multichat.Persistence.Tests -c Release -warnaserror -nologo -v quiet -p:DependencyFloors=true -p:RunAnalyzers=false
floors=artifacts/floors/bin/Multichat.Persistence.Tests/Release/net10.0/Multichat.Persistence.Tests
echo "resolved: $(grep -oE '"(Microsoft\.Data\.Sqlite|StackExchange\.Redis)/[^"]+"' "$floors.deps.json" | tr -d '"' | sort -u | paste -sd ' ')"
for store in Sqlite Redis; do
  "$floors" -namespace "Multichat.Persistence.Tests.Stores.$store" -noColor
done
echo "dependency floors: $((SECONDS - started)) s"

echo "== packages: metadata, symbols, and each README quick start against the packed .nupkg"
bash scripts/verify-package.sh

echo "== Native AOT: the sample over every store, no trimming or AOT warnings"
bash scripts/verify-aot.sh
