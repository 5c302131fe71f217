#!/usr/bin/env bash
# The cluster tests (marker `cluster`) and the batch, playback, ops and statement test modules,
# with TEST_DATABASE_URL through HAProxy's writer address of a 3-node Galera cluster
# (scripts/cluster.sh start, left running afterwards; stop it with scripts/cluster.sh stop).
# Extra arguments go to pytest. The failover test kills node 1 and restarts it, so it runs last.
set -euo pipefail
cd "$(dirname "$0")/.."
export PAYSYSTEM_CLUSTER_PORT=${PAYSYSTEM_CLUSTER_PORT:-3400}
scripts/cluster.sh start >/dev/null
export PAYSYSTEM_CLUSTER_TESTS=1
export TEST_DATABASE_URL="mysql+pymysql://root@127.0.0.1:${PAYSYSTEM_CLUSTER_PORT}"
modules=(
  tests/test_named_lock.py
  tests/test_batch_pipeline.py tests/test_batch_bookkeeping.py tests/test_batch_schedule.py
  tests/test_batch_workers.py tests/test_batch_cli.py
  tests/test_playback_service.py tests/test_progress_recorder.py tests/test_watch_rules.py
  tests/test_watching_http.py tests/test_ad_view_rules.py
  tests/test_ops_runs.py tests/test_ops_backfill_progress.py tests/test_ops_metrics.py tests/test_ops_plans.py
  tests/test_statements.py tests/test_statement_api.py tests/test_statement_console.py tests/test_payouts.py
)
.venv/bin/python -m pytest -p no:cacheprovider "${modules[@]}" "$@"
exec .venv/bin/python -m pytest -p no:cacheprovider -m cluster tests/test_cluster.py "$@"
