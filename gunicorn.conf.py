"""gunicorn settings of the portal, read by `gunicorn portal.wsgi:app` started in this directory
(scripts/demo.sh, the Docker image, bench/progress.py). Command-line flags override them.

Threaded workers (gthread) keep players' connections alive between their progress reports
and overlap one request's database and Redis waits with another's work; with 2 cores, two
processes of two threads measured best for the progress endpoint (bench/progress.py).
"""

import os
import sys

workers = int(os.environ.get("PORTAL_WORKERS", "2"))
threads = int(os.environ.get("PORTAL_THREADS", "2"))
worker_class = "gthread"
# Players report every 10 s: a connection kept open longer than that is reused.
keepalive = 30
backlog = 2048
# The workers' heartbeat file is touched on every request: keep it in memory, not on disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
control_socket_disable = True
# gunicorn answers an over-long request line (414) or header (431) itself, in HTML, before the
# app: its limits are raised and the app enforces the old ones in its own error model, JSON on
# /api (portal/request_limits.py). gunicorn's 8,190-byte request line is as far as it goes.
# (This checkout first on the path, as gunicorn puts it there itself only after reading this file.)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from portal.request_limits import GUNICORN_HEADER_FIELD, GUNICORN_REQUEST_LINE  # noqa: E402

limit_request_line = GUNICORN_REQUEST_LINE
limit_request_field_size = GUNICORN_HEADER_FIELD


# prometheus-client's multi-process mode (/metrics, portal/ops/metrics.py): with
# PROMETHEUS_MULTIPROC_DIR set, the workers share their counters through files there.
# The master empties the directory before the first fork (left-over files of an earlier
# run would be counted again) and forgets a dead worker's live gauges.
_METRICS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def on_starting(server):  # type: ignore[no-untyped-def]
    """Refuse to listen beyond loopback with the published development secret
    (paysystem/public_bind.py); empty the metrics directory before the first fork."""
    from paysystem.public_bind import check_bind
    from settings import load_settings

    check_bind(server.cfg.bind, load_settings().secret_key)
    if _METRICS_DIR:
        import glob

        os.makedirs(_METRICS_DIR, exist_ok=True)
        for stale in glob.glob(os.path.join(_METRICS_DIR, "*.db")):
            os.remove(stale)


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    if _METRICS_DIR:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
