#!/usr/bin/env bash
# The web side of the local cluster (issue 23): a MariaDB read replica (GTID replication), two
# portal nodes (gunicorn) behind HAProxy, two RQ workers, the scheduler, Redis split in a queue
# and a cache instance, and the demo data. Real processes on loopback ports, state under
# $CLUSTER_WEB_DIR. scripts/cluster.sh (the Galera side) calls it with its own DATABASE_URL and
# REPLICA_SOURCE; alone it also starts a private primary (binary log on) for the replica.
#
#   scripts/cluster-web.sh start     # start everything, print the URLs, return
#   scripts/cluster-web.sh status    # which processes are alive
#   scripts/cluster-web.sh stop      # stop everything it started (by pid file), cleanly
#
# Settings (environment, all optional):
#   DATABASE_URL        the primary (e.g. Galera's HAProxy writer); default: a private mariadbd
#   REPLICA_SOURCE      host:port the replica follows (a server with log_bin; Galera: one node
#                       with log_slave_updates); default: the private primary
#   REPLICA_SOURCE_USER / REPLICA_SOURCE_PASSWORD   default root / empty
#   CLUSTER_WEB_DIR     state, logs, pid files, media; default ./var/cluster-web
#   PRIMARY_PORT=3450 REPLICA_PORT=3451 BALANCER_PORT=8100 WEB_PORTS="8101 8102"
#   REDIS_QUEUE_PORT=6390 REDIS_CACHE_PORT=6391 (or REDIS_QUEUE_URL / REDIS_CACHE_URL to use yours)
#   WORKERS=2  NO_DEMO=1 (skip the demo data)
#
# A local demonstration topology: every server listens on 127.0.0.1 only, and the private
# MariaDB servers run without grant tables (nothing but loopback reaches them).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY="$ROOT/.venv/bin/python"
DIR=${CLUSTER_WEB_DIR:-$ROOT/var/cluster-web}
PRIMARY_PORT=${PRIMARY_PORT:-3450}
REPLICA_PORT=${REPLICA_PORT:-3451}
BALANCER_PORT=${BALANCER_PORT:-8100}
WEB_PORTS=${WEB_PORTS:-"8101 8102"}
REDIS_QUEUE_PORT=${REDIS_QUEUE_PORT:-6390}
REDIS_CACHE_PORT=${REDIS_CACHE_PORT:-6391}
WORKERS=${WORKERS:-2}
DB_NAME=${DB_NAME:-paysystem}
MARIADBD=${MARIADBD:-/usr/sbin/mariadbd}

log() { printf '* %s\n' "$*"; }

# Start a command in the background in its own session; remember its pid for `stop`.
spawn() {
  local name=$1; shift
  setsid "$@" >>"$DIR/logs/$name.log" 2>&1 < /dev/null &
  echo $! >"$DIR/pids/$name"
  echo "$name" >>"$DIR/pids/order"
}

# A process that has exited but not been reaped yet (a zombie: its parent, the start shell,
# is gone, and some inits reap orphans only every few seconds) counts as stopped.
running() { kill -0 "$1" 2>/dev/null && [[ "$(ps -o stat= -p "$1" 2>/dev/null)" != Z* ]]; }
alive() { [[ -f "$DIR/pids/$1" ]] && running "$(cat "$DIR/pids/$1")"; }

wait_for() {  # wait_for what seconds command...
  local what=$1 seconds=$2; shift 2
  for _ in $(seq 1 $((seconds * 5))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "timed out waiting for $what (logs: $DIR/logs)" >&2
  return 1
}

sql() {  # sql port statement
  "$PY" - "$1" "$2" <<'EOF'
import sys, pymysql
conn = pymysql.connect(host="127.0.0.1", port=int(sys.argv[1]), user="root", autocommit=True, connect_timeout=2)
with conn.cursor() as cursor:
    cursor.execute(sys.argv[2])
    for row in cursor.fetchall():
        print(*row, sep="\t")
EOF
}

start_mariadb() {  # start_mariadb name port extra-args...
  local name=$1 port=$2; shift 2
  local data="$DIR/$name"
  if [[ ! -d "$data/mysql" ]]; then
    mariadb-install-db --no-defaults --datadir="$data" --user="$(id -un)" --skip-test-db >"$DIR/logs/$name-install.log" 2>&1
  fi
  spawn "$name" "$MARIADBD" --no-defaults --datadir="$data" --port="$port" --bind-address=127.0.0.1 \
    --socket="$DIR/$name.sock" --user="$(id -un)" --skip-grant-tables --innodb-buffer-pool-size=128M \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci --local-infile=1 "$@"
  wait_for "$name on port $port" 60 sql "$port" "SELECT 1"
}

start_redis() {  # start_redis name port
  spawn "$1" redis-server --port "$2" --bind 127.0.0.1 --save '' --appendonly no --dir "$DIR"
  wait_for "$1 on port $2" 20 redis-cli -p "$2" ping
}

cmd_start() {
  if [[ -f "$DIR/pids/order" ]]; then
    echo "already started (state in $DIR); run '$0 stop' first" >&2
    exit 1
  fi
  mkdir -p "$DIR/logs" "$DIR/pids" "$DIR/media"
  : >"$DIR/pids/order"
  trap 'echo "start failed; stopping what was started" >&2; cmd_stop' ERR

  local primary_url source
  if [[ -z "${DATABASE_URL:-}" ]]; then
    log "primary: private mariadbd on 127.0.0.1:$PRIMARY_PORT (binary log, GTID)"
    start_mariadb primary "$PRIMARY_PORT" --server-id=1 --log-bin=primary-bin --binlog-format=ROW --log-basename=primary
    sql "$PRIMARY_PORT" "CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    primary_url="mysql+pymysql://root@127.0.0.1:$PRIMARY_PORT/$DB_NAME"
    source=${REPLICA_SOURCE:-127.0.0.1:$PRIMARY_PORT}
  else
    primary_url=$DATABASE_URL
    source=${REPLICA_SOURCE:?with DATABASE_URL set, REPLICA_SOURCE (host:port with log_bin) names what the replica follows}
  fi

  log "replica: mariadbd on 127.0.0.1:$REPLICA_PORT following $source (MASTER_USE_GTID=slave_pos)"
  # Without grant tables the replica cannot apply account statements (a Galera source logs
  # its CREATE USER/GRANT for root@'%'): skip exactly that error (1290), nothing else.
  local seeded=1
  [[ -d "$DIR/replica/mysql" ]] || seeded=0
  start_mariadb replica "$REPLICA_PORT" --server-id=2 --skip-log-bin --log-basename=replica --read-only=1 \
    --slave-skip-errors=1290
  sql "$REPLICA_PORT" "STOP SLAVE"
  if [[ $seeded = 0 ]]; then
    # A new replica starts from a consistent copy of the source's database and the source's GTID
    # position at that moment (mariadb-dump --master-data --gtid sets gtid_slave_pos), not from
    # the start of the source's binary log: a Galera node that was killed and rejoined by a state
    # transfer no longer has its whole history in its binlog (error 1236 otherwise).
    log "replica: seeding from $source (mariadb-dump --single-transaction --master-data --gtid)"
    mariadb-dump -h "${source%:*}" -P "${source##*:}" -u "${REPLICA_SOURCE_USER:-root}" \
      ${REPLICA_SOURCE_PASSWORD:+-p"$REPLICA_SOURCE_PASSWORD"} --single-transaction --master-data=1 --gtid \
      --databases "$DB_NAME" 2>"$DIR/logs/replica-seed.log" \
      | mariadb -h 127.0.0.1 -P "$REPLICA_PORT" -u root 2>>"$DIR/logs/replica-seed.log"
  fi
  sql "$REPLICA_PORT" "CHANGE MASTER TO MASTER_HOST='${source%:*}', MASTER_PORT=${source##*:}, \
MASTER_USER='${REPLICA_SOURCE_USER:-root}', MASTER_PASSWORD='${REPLICA_SOURCE_PASSWORD:-}', \
MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1"
  sql "$REPLICA_PORT" "START SLAVE"
  wait_for "the replica's database $DB_NAME" 30 sql "$REPLICA_PORT" "USE \`$DB_NAME\`"
  local read_url="mysql+pymysql://root@127.0.0.1:$REPLICA_PORT/$DB_NAME"

  local queue_url=${REDIS_QUEUE_URL:-} cache_url=${REDIS_CACHE_URL:-}
  if [[ -z "$queue_url" ]]; then
    log "redis (queue): 127.0.0.1:$REDIS_QUEUE_PORT"
    start_redis redis-queue "$REDIS_QUEUE_PORT"
    queue_url="redis://127.0.0.1:$REDIS_QUEUE_PORT/0"
  fi
  if [[ -z "$cache_url" ]]; then
    log "redis (cache): 127.0.0.1:$REDIS_CACHE_PORT"
    start_redis redis-cache "$REDIS_CACHE_PORT"
    cache_url="redis://127.0.0.1:$REDIS_CACHE_PORT/0"
  fi

  [[ -f "$DIR/secret" ]] || "$PY" -c 'import secrets; print(secrets.token_urlsafe(48))' >"$DIR/secret"
  [[ -f "$DIR/metrics-token" ]] || "$PY" -c 'import secrets; print(secrets.token_urlsafe(24))' >"$DIR/metrics-token"
  cat >"$DIR/env" <<EOF
export DATABASE_URL='$primary_url'
export DATABASE_READ_URL='$read_url'
export REDIS_URL='$cache_url'
export REDIS_QUEUE_URL='$queue_url'
export REDIS_CACHE_URL='$cache_url'
export SECRET_KEY='$(cat "$DIR/secret")'
export METRICS_TOKEN='$(cat "$DIR/metrics-token")'
export MEDIA_ROOT='$DIR/media'
export PUBLIC_BASE_URL='http://127.0.0.1:$BALANCER_PORT'
export TRUSTED_PROXY_HOPS=1
EOF
  # shellcheck disable=SC1091
  source "$DIR/env"

  log "migrating the primary"
  "$PY" -m paysystem migrate >>"$DIR/logs/setup.log" 2>&1
  if [[ -z "${NO_DEMO:-}" ]]; then
    log "demo data (accounts, media, 30 days computed by the batch; a minute or two)"
    "$PY" -m paysystem seed-demo >>"$DIR/logs/setup.log" 2>&1
  fi

  local node=0 servers=()
  for port in $WEB_PORTS; do
    node=$((node + 1))
    log "web node $node: gunicorn on 127.0.0.1:$port"
    spawn "web$node" env PROMETHEUS_MULTIPROC_DIR="$DIR/metrics-web$node" \
      "$PY" -m gunicorn --config "$ROOT/gunicorn.conf.py" --bind "127.0.0.1:$port" portal.wsgi:app
    servers+=(--server "127.0.0.1:$port")
  done
  for port in $WEB_PORTS; do
    wait_for "web node on port $port" 60 curl -fsS "http://127.0.0.1:$port/healthz"
  done
  log "haproxy on 127.0.0.1:$BALANCER_PORT"
  spawn haproxy "$PY" -m paysystem.balancer --bind "127.0.0.1:$BALANCER_PORT" "${servers[@]}"
  wait_for "haproxy" 20 curl -fsS "http://127.0.0.1:$BALANCER_PORT/healthz"

  for number in $(seq 1 "$WORKERS"); do
    spawn "worker$number" "$PY" -m paysystem worker --name "cluster-web-$number-$$"
  done
  spawn scheduler "$PY" -m paysystem scheduler --interval 5
  trap - ERR

  cat <<EOF

PaySystem (web side of the cluster) is running:
  portal (HAProxy)   http://127.0.0.1:$BALANCER_PORT      (demo logins: README; password paysystem-demo)
  web nodes          $(for p in $WEB_PORTS; do printf 'http://127.0.0.1:%s  ' "$p"; done)
  metrics            curl -H "Authorization: Bearer \$(cat $DIR/metrics-token)" http://127.0.0.1:$BALANCER_PORT/metrics
  primary            $primary_url
  read replica       $read_url
  redis queue/cache  $queue_url  $cache_url
  workers            $WORKERS, and the scheduler
  environment        source $DIR/env     logs: $DIR/logs
Stop it with: $0 stop
EOF
}

cmd_stop() {
  [[ -f "$DIR/pids/order" ]] || { echo "nothing started (no $DIR/pids/order)"; return 0; }
  # Reverse start order: the scheduler and workers before the web nodes, the databases last.
  local name pid
  for name in $(tac "$DIR/pids/order"); do
    [[ -f "$DIR/pids/$name" ]] || continue
    pid=$(cat "$DIR/pids/$name")
    if running "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do running "$pid" || break; sleep 0.2; done
      if running "$pid"; then
        echo "  $name ($pid) did not stop in 20 s: killed"
        kill -KILL "$pid" 2>/dev/null || true
      else
        echo "  stopped $name ($pid)"
      fi
    fi
    rm -f "$DIR/pids/$name"
  done
  rm -f "$DIR/pids/order"
}

cmd_status() {
  [[ -f "$DIR/pids/order" ]] || { echo "not started"; return 0; }
  local name
  for name in $(cat "$DIR/pids/order"); do
    if alive "$name"; then echo "  $name: running ($(cat "$DIR/pids/$name"))"; else echo "  $name: NOT running"; fi
  done
}

case "${1:-start}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: $0 [start|stop|status]" >&2; exit 2 ;;
esac
