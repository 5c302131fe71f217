#!/usr/bin/env bash
# Runs the whole test suite against MariaDB (127.0.0.1:3306, root) and Redis (127.0.0.1:6379).
# Override with TEST_DATABASE_URL=mysql://user:pass@host:port and TEST_REDIS_URL=redis://host:port.
# Extra arguments go to pytest (e.g. scripts/test.sh -k settlement, scripts/test.sh -m "not slow").
# The suite runs on TEST_WORKERS pytest-xdist workers (TEST_WORKERS=0: in this process), a test
# module per worker at a time (--dist loadfile: module-scoped servers and databases start once),
# the longest modules first (tests/module_seconds.json; --no-loadscope-reorder keeps that order);
# each worker has its own database and Redis DB number (tests/conftest.py).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev

# Debian's Chromium headless shell: the same engine without the browser's own UI, which in
# the full browser's headless mode cost a third of the every-page check's user CPU (tests/conftest.py).
chromium=${CHROMIUM_PATH:-/usr/bin/chromium-headless-shell}
if [ ! -x "$chromium" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "* installing Chromium (headless shell) for the browser tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium-headless-shell) >/dev/null
fi
if [ ! -x "$chromium" ]; then
  echo "Chromium is needed for the browser tests: sudo apt-get install -y chromium-headless-shell (or set CHROMIUM_PATH)" >&2
  exit 1
fi

# Plugins are named, not found by entry point: pytest rewrites the assertions of every module of
# an entry-point plugin's package (hypothesis, schemathesis: ~370 modules), in each worker, at
# every start (3.6 s of CPU per worker); ours still get their assertions rewritten.
export PYTEST_DISABLE_PLUGIN_AUTOLOAD=1
exec .venv/bin/python -m pytest -p xdist.plugin -p xdist.looponfail -p _hypothesis_pytestplugin \
  -p schemathesis.pytest.plugin -n "${TEST_WORKERS:-3}" --dist loadfile --no-loadscope-reorder --durations=25 "$@"
