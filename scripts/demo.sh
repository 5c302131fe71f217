#!/usr/bin/env bash
# Sets everything up and starts the portal with demo data, a worker and the scheduler.
# Without DATABASE_URL it uses SQLite (./var); without REDIS_URL an embedded Redis.
# Ctrl-C stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python -m paysystem up "$@"
