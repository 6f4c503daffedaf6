#!/usr/bin/env bash
# Records a library's public API changes in its PublicAPI.Unshipped.txt (the project folder is the argument, default
# src/Multichat.Persistence; src/Multichat.Persistence.AgentFramework for the adapter): builds once,
# takes every symbol the PublicApiAnalyzers report as new (RS0016) or gone (RS0017, written as *REMOVED*), and adds
# them. Review the diff: each line is a public change users will see.
set -euo pipefail
cd "$(dirname "$0")/.."
project=${1:-src/Multichat.Persistence}
unshipped=$project/PublicAPI.Unshipped.txt
found=$({ dotnet build "$project" -c Release -nologo -v quiet --no-incremental 2>&1 || true; } \
  | sed -nE "s/.*error RS0016: Symbol '(.*)' is not part of the declared public API.*/\1/p; s/.*error RS0017: Symbol '(.*)' is part of the declared API, but .*/*REMOVED*\1/p" \
  | sort -u)
if [ -z "$found" ]; then
  echo "PublicAPI files are up to date."
  exit 0
fi
{ head -n 1 "$unshipped"; { tail -n +2 "$unshipped"; printf '%s\n' "$found"; } | sort -u; } > "$unshipped.new"
mv "$unshipped.new" "$unshipped"
printf '%s\n' "$found" | sed 's/^/added: /'
