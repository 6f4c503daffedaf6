#!/usr/bin/env bash
# Publishes samples/Multichat.AotSample with Native AOT and fails on any trimming or AOT warning (IL2xxx, IL3xxx) —
# from Multichat.Persistence or anything it brings in — then runs the native binary over every store: Memory, Json,
# Sqlite, Json with encryption and compression, and Redis on a private redis-server when one is installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
redis_pid=
cleanup() {
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

log="$work/publish.log"
if ! dotnet publish "$root/samples/Multichat.AotSample" -c Release -o "$work/app" -nologo -p:TreatWarningsAsErrors=false >"$log" 2>&1; then
  cat "$log" >&2
  echo "verify-aot: the AOT publish failed (Native AOT links with clang: install it, e.g. apt-get install clang)." >&2
  exit 1
fi
if grep -E "warning IL[23][0-9]{3}" "$log" | sort -u | grep .; then
  echo "verify-aot: the AOT publish has trimming or AOT warnings (above)." >&2
  exit 1
fi
echo "-- AOT publish: no trimming or AOT warnings"

arguments=()
if command -v redis-server >/dev/null 2>&1; then
  # A free loopback port: bound, read, released; then a private server on it, stopped by its PID.
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
  redis_pid=$!
  for _ in $(seq 50); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  arguments=("127.0.0.1:$port")
fi
"$work/app/Multichat.AotSample" "${arguments[@]}"
