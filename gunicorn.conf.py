"""gunicorn settings of the portal, read by `gunicorn portal.wsgi:app` started in this directory
(scripts/demo.sh, the Docker image, bench/progress.py). Command-line flags override them.

Threaded workers (gthread) keep players' connections alive between their progress reports
and overlap one request's database and Redis waits with another's work; with 2 cores, two
processes of two threads measured best for the progress endpoint (bench/progress.py).
"""

import os

workers = int(os.environ.get("PORTAL_WORKERS", "2"))
threads = int(os.environ.get("PORTAL_THREADS", "2"))
worker_class = "gthread"
# Players report every 10 s: a connection kept open longer than that is reused.
keepalive = 30
backlog = 2048
# The workers' heartbeat file is touched on every request: keep it in memory, not on disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
control_socket_disable = True


def on_starting(server):  # type: ignore[no-untyped-def]
    """Refuse to listen beyond loopback with the published development secret (paysystem/public_bind.py)."""
    from paysystem.config import load_settings
    from paysystem.public_bind import check_bind

    check_bind(server.cfg.bind, load_settings().secret_key)
