#!/usr/bin/env bash
# Prepares ./.venv (pinned Python packages) and ./node_modules (htmx) for this checkout.
# Re-running is cheap: installs happen only when the requirement files changed.
# Usage: scripts/setup.sh [dev]   ("dev" adds the test and benchmark tools)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
want_dev=${1:-}

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "PaySystem needs Python 3.11 or newer as '$PYTHON' (set PYTHON=/path/to/python3.11)." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -m venv .venv; then
    echo "Could not create a virtualenv; on Debian/Ubuntu: sudo apt-get install -y python3-venv" >&2
    exit 1
  fi
fi

reqs=requirements.txt
[ "$want_dev" = "dev" ] && reqs=requirements-dev.txt
stamp=".venv/.installed-$(cat requirements.txt requirements-dev.txt pyproject.toml | sha256sum | cut -c1-16)-$want_dev"
if [ ! -f "$stamp" ]; then
  echo "* installing Python packages ($reqs)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$reqs"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
  rm -f .venv/.installed-*
  touch "$stamp"
fi

if [ ! -f node_modules/htmx.org/dist/htmx.min.js ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm is needed to install htmx (Debian/Ubuntu: sudo apt-get install -y npm)" >&2
    exit 1
  fi
  echo "* installing browser packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# Our CSS and scripts and the installed browser packages, content-hashed and precompressed
# (portal/assets.py); cheap when nothing changed.
.venv/bin/python -m paysystem build-static >/dev/null
