#!/usr/bin/env bash
# Sync benchmark (issue 3): serve USERS users / GROUPS groups / MEMBERS members per group from the testkit
# server on 127.0.0.1 and time `muster sync` (release build) into a fresh SQLite store with /usr/bin/time -v.
# Usage: bench/sync.sh [USERS] [GROUPS] [MEMBERS_PER_GROUP]     (default 100000 10000 100 = 1M memberships)
set -euo pipefail
cd "$(dirname "$0")/.."
USERS=${1:-100000}; NGROUPS=${2:-10000}; MEMBERS=${3:-100}
cargo build --release -q -p muster -p muster-testkit
work=$(mktemp -d)
trap 'kill $server_pid 2>/dev/null || true; rm -rf "$work"' EXIT
./target/release/muster-testkit-server --users "$USERS" --groups "$NGROUPS" --members-per-group "$MEMBERS" > "$work/server.out" &
server_pid=$!
for _ in $(seq 50); do grep -q BASE_URL "$work/server.out" 2>/dev/null && break; sleep 0.1; done
export BENCH_URL=$(sed -n 's/^BASE_URL=//p' "$work/server.out")
/usr/bin/time -v ./target/release/muster sync bench/connector.yaml --db "$work/bench.db" --json > "$work/sync.json" 2> "$work/time.txt"
records=$(python3 -c "import json;d=json.load(open('$work/sync.json'));c=d['sync']['counts'];print(c['resources']+c['grants']+c['entitlements'])")
wall=$(python3 -c "import json;d=json.load(open('$work/sync.json'));print(d['report']['elapsed_ms']/1000)")
rss=$(awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print int($2/1024)}' "$work/time.txt")
cpu=$(awk -F: '/User time|System time/ {s+=$2} END {print s}' "$work/time.txt")
python3 - "$records" "$wall" "$rss" "$cpu" "$USERS" "$NGROUPS" "$MEMBERS" <<'PY'
import sys
records, wall, rss, cpu, u, g, m = sys.argv[1:]
records, wall = int(records), float(wall)
print(f"scale: {u} users, {g} groups, {int(g)*int(m)} memberships")
print(f"records: {records}  wall: {wall:.2f}s  records/s: {records/wall:,.0f}  cpu: {float(cpu):.2f}s  peak RSS: {rss} MB")
PY
