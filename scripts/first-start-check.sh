#!/usr/bin/env bash
# Shows the README's first command working on a clean clone: clones this repository into a
# temporary directory, runs scripts/demo.sh there with no DATABASE_URL / REDIS_URL (SQLite and
# the embedded Redis), and reports how long it took until GET / answered 200. Limit: 120 s.
set -euo pipefail
# Job control: the background demo gets its own process group and keeps SIGINT (a
# non-interactive shell would start it with SIGINT ignored), so Ctrl-C reaches all of it.
set -m
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
port=${PORT:-5099}
limit=${LIMIT:-120}
git clone --quiet "$src" "$work/paysystem"
cd "$work/paysystem"
start=$(date +%s)
env -u DATABASE_URL -u REDIS_URL scripts/demo.sh --port "$port" >"$work/demo.log" 2>&1 &
pid=$!
status=1
while [ $(( $(date +%s) - start )) -lt "$limit" ]; do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" || true)" = 200 ]; then
    status=0
    break
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 1
done
elapsed=$(( $(date +%s) - start ))
# Ctrl-C as a user would press it; whatever is still running after 30 s is killed.
kill -INT -- -"$pid" 2>/dev/null || true
for _ in $(seq 30); do
  kill -0 -- -"$pid" 2>/dev/null || break
  sleep 1
done
kill -KILL -- -"$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
if [ $status = 0 ]; then
  echo "GET / answered 200 after ${elapsed}s on a clean clone ($work/paysystem)"
else
  echo "GET / did not answer 200 within ${limit}s; log: $work/demo.log" >&2
  tail -30 "$work/demo.log" >&2
fi
exit $status
