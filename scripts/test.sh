#!/usr/bin/env bash
# Runs the whole test suite against MariaDB (127.0.0.1:3306, root) and Redis (127.0.0.1:6379).
# Override with TEST_DATABASE_URL=mysql://user:pass@host:port and TEST_REDIS_URL=redis://host:port.
# Extra arguments go to pytest (e.g. scripts/test.sh -k settlement, scripts/test.sh -m "not slow").
# The suite runs on TEST_WORKERS pytest-xdist workers (TEST_WORKERS=0: in this process), a test
# module per worker at a time (--dist loadfile: module-scoped servers and databases start once);
# each worker has its own database and Redis DB number (tests/conftest.py).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev

chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
if [ ! -x "$chromium" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "* installing Chromium for the browser tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
fi
if [ ! -x "$chromium" ]; then
  echo "Chromium is needed for the browser tests: sudo apt-get install -y chromium (or set CHROMIUM_PATH)" >&2
  exit 1
fi

exec .venv/bin/python -m pytest -n "${TEST_WORKERS:-3}" --dist loadfile --durations=25 "$@"
