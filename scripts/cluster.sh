#!/usr/bin/env bash
# The cluster topology on this machine, as real processes on loopback ports (no containers):
#   database: 3 MariaDB Galera nodes + a Synced-aware health server + HAProxy (one writer,
#             two backups) — paysystem/galera.py; the application's DATABASE_URL is the
#             writer address it prints.
# Usage: scripts/cluster.sh start|status|stop|destroy
# Environment: PAYSYSTEM_CLUSTER_DIR (default /tmp/paysystem-cluster, data and logs),
#              PAYSYSTEM_CLUSTER_PORT (default 3400: HAProxy writer; nodes +1..+3; see galera.py).
#
# Each piece of the topology is a pair of functions <piece>_start / <piece>_stop (plus
# <piece>_status) listed in PIECES, started in that order and stopped in reverse; add a
# piece (replica, web nodes, workers) by writing its functions and appending its name.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
export PAYSYSTEM_CLUSTER_DIR=${PAYSYSTEM_CLUSTER_DIR:-/tmp/paysystem-cluster}
export PAYSYSTEM_CLUSTER_PORT=${PAYSYSTEM_CLUSTER_PORT:-3400}

PIECES=(galera)

galera_start() { "$PY" -m paysystem.galera start >/dev/null; }
galera_stop() { "$PY" -m paysystem.galera stop; }
galera_status() { "$PY" -m paysystem.galera status; }
galera_destroy() { "$PY" -m paysystem.galera destroy; }

for_pieces() {  # for_pieces <action> [reverse]
  local action=$1 order=("${PIECES[@]}")
  if [ "${2:-}" = reverse ]; then
    order=(); for ((i = ${#PIECES[@]} - 1; i >= 0; i--)); do order+=("${PIECES[i]}"); done
  fi
  for piece in "${order[@]}"; do
    if declare -F "${piece}_${action}" >/dev/null; then "${piece}_${action}"; fi
  done
}

case "${1:-}" in
  start)
    for_pieces start
    for_pieces status
    echo "DATABASE_URL=mysql+pymysql://root@127.0.0.1:${PAYSYSTEM_CLUSTER_PORT}/paysystem"
    echo "HAProxy statistics: http://127.0.0.1:$((PAYSYSTEM_CLUSTER_PORT + 40))/"
    ;;
  status) for_pieces status ;;
  stop) for_pieces stop reverse ;;
  destroy) for_pieces stop reverse; for_pieces destroy reverse ;;
  *) echo "usage: $0 start|status|stop|destroy" >&2; exit 2 ;;
esac
