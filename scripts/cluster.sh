#!/usr/bin/env bash
# The whole cluster topology on this machine, as real processes on loopback ports (no containers):
#   galera: 3 MariaDB Galera nodes (binary log, GTID) + a Synced-aware health server + HAProxy
#           (one writer, two backups) — paysystem/galera.py;
#   web:    scripts/cluster-web.sh with DATABASE_URL through Galera's HAProxy and its read
#           replica following Galera node REPLICA_SOURCE_NODE by GTID; two Redis, the demo data,
#           two web nodes behind HAProxy, the workers and the scheduler.
# Usage: scripts/cluster.sh start|status|stop|destroy
# Environment: PAYSYSTEM_CLUSTER_DIR (default /tmp/paysystem-cluster, Galera data and logs),
#              PAYSYSTEM_CLUSTER_PORT (default 3400: HAProxy writer; nodes +1..+3; see galera.py),
#              REPLICA_SOURCE_NODE (default 1, the writer), CLUSTER_PIECES (default "galera web";
#              "galera" alone is the database only), and cluster-web.sh's settings (ports, NO_DEMO,
#              CLUSTER_WEB_DIR).
#
# Each piece of the topology is a pair of functions <piece>_start / <piece>_stop (plus
# <piece>_status) listed in PIECES, started in that order and stopped in reverse.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
export PAYSYSTEM_CLUSTER_DIR=${PAYSYSTEM_CLUSTER_DIR:-/tmp/paysystem-cluster}
export PAYSYSTEM_CLUSTER_PORT=${PAYSYSTEM_CLUSTER_PORT:-3400}
REPLICA_SOURCE_NODE=${REPLICA_SOURCE_NODE:-1}
export DB_NAME=${DB_NAME:-paysystem}
read -r -a PIECES <<<"${CLUSTER_PIECES:-galera web}"

galera_start() { "$PY" -m paysystem.galera start >/dev/null; }
galera_stop() { "$PY" -m paysystem.galera stop; }
galera_status() { "$PY" -m paysystem.galera status; }
galera_destroy() { "$PY" -m paysystem.galera destroy; }

# The replica waits for the database to arrive by replication before the migration runs, so
# the database is created first, through the writer (so it is in the binary log).
web_start() {
  "$PY" -c 'import sys, pymysql
conn = pymysql.connect(host="127.0.0.1", port=int(sys.argv[1]), user="root", autocommit=True)
conn.cursor().execute(f"CREATE DATABASE IF NOT EXISTS `{sys.argv[2]}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")' \
    "$PAYSYSTEM_CLUSTER_PORT" "$DB_NAME"
  DATABASE_URL="mysql+pymysql://root@127.0.0.1:${PAYSYSTEM_CLUSTER_PORT}/${DB_NAME}" \
    REPLICA_SOURCE="127.0.0.1:$((PAYSYSTEM_CLUSTER_PORT + REPLICA_SOURCE_NODE))" \
    scripts/cluster-web.sh start
}
web_stop() { scripts/cluster-web.sh stop; }
web_destroy() { rm -rf "${CLUSTER_WEB_DIR:-var/cluster-web}"; }
web_status() {
  echo "web side (scripts/cluster-web.sh):"
  scripts/cluster-web.sh status
  "$PY" -c 'import sys, pymysql
conn = pymysql.connect(host="127.0.0.1", port=int(sys.argv[1]), user="root", connect_timeout=2,
                       cursorclass=pymysql.cursors.DictCursor)
with conn.cursor() as cursor:
    cursor.execute("SHOW SLAVE STATUS")
    row = cursor.fetchone() or {}
error = row.get("Last_Error") or row.get("Last_IO_Error")
fields = ("Master_Host", "Master_Port", "Slave_IO_Running", "Slave_SQL_Running", "Seconds_Behind_Master", "Gtid_IO_Pos")
host, port, io, sql, behind, gtid = (row.get(name) for name in fields)
print(f"  replica: following {host}:{port}, IO {io}, SQL {sql}, {behind} s behind, GTID {gtid}"
      + (f", error: {error}" if error else ""))' "${REPLICA_PORT:-3451}" \
    2>/dev/null || echo "  replica: not answering"
}

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
    echo "DATABASE_URL=mysql+pymysql://root@127.0.0.1:${PAYSYSTEM_CLUSTER_PORT}/${DB_NAME}  (Galera, through HAProxy)"
    echo "Galera HAProxy statistics: http://127.0.0.1:$((PAYSYSTEM_CLUSTER_PORT + 40))/"
    echo "replica source: Galera node ${REPLICA_SOURCE_NODE}, 127.0.0.1:$((PAYSYSTEM_CLUSTER_PORT + REPLICA_SOURCE_NODE))"
    ;;
  status) for_pieces status ;;
  stop) for_pieces stop reverse ;;
  destroy) for_pieces stop reverse; for_pieces destroy reverse ;;
  *) echo "usage: $0 start|status|stop|destroy" >&2; exit 2 ;;
esac
