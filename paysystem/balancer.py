"""HAProxy in front of several portal (gunicorn) nodes: its configuration and process (issue 23).

Why a balancer even on one host: gunicorn's workers share one listening socket and the worker
that went back to waiting last takes most new keep-alive connections (README, "Portal read
benchmark": 7 of 8 connections on one worker). HAProxy in HTTP mode picks a server per
request (`balance leastconn` over its pooled server connections), so the load spreads over
the nodes however the clients' connections landed; it also takes a node out of rotation while
its `/healthz` fails and forwards the client's address (`X-Forwarded-For`: run the nodes with
TRUSTED_PROXY_HOPS=1 so the per-IP sign-in limits see the real client).

`python -m paysystem.balancer --port 8080 --server 127.0.0.1:8001 --server 127.0.0.1:8002`
runs HAProxy in the foreground (scripts/cluster-web.sh, bench/portal.py `--nodes`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from paysystem.launcher import stop_process_groups

HAPROXY = os.environ.get("HAPROXY", shutil.which("haproxy") or "/usr/sbin/haproxy")


def haproxy_config(bind: str, servers: Sequence[str], *, check_path: str = "/healthz") -> str:
    """An HAProxy configuration balancing HTTP requests from `bind` (host:port) over `servers`."""
    lines = [
        "global",
        "    maxconn 4096",
        "    nbthread 1",  # one thread is plenty for a few thousand req/s and leaves the cores to Python
        "defaults",
        "    mode http",
        "    option http-keep-alive",
        "    option forwardfor",
        "    http-reuse safe",
        "    timeout connect 2s",
        "    timeout client 60s",
        "    timeout server 60s",
        "    timeout http-keep-alive 30s",
        "    retries 2",
        "    option redispatch",
        "frontend portal",
        f"    bind {bind}",
        "    default_backend web",
        "backend web",
        "    balance leastconn",
        f"    option httpchk GET {check_path}",
        "    http-check expect status 200",
    ]
    for number, server in enumerate(servers, 1):
        lines.append(f"    server web{number} {server} check inter 2s fall 2 rise 1")
    return "\n".join(lines) + "\n"


def spawn_haproxy(bind: str, servers: Sequence[str], workdir: Path | None = None) -> subprocess.Popen[bytes]:
    """HAProxy in the foreground, in its own process group (stop it with `stop_haproxy`)."""
    directory = workdir or Path(tempfile.mkdtemp(prefix="paysystem-haproxy-"))
    config = directory / "haproxy.cfg"
    config.write_text(haproxy_config(bind, servers))
    subprocess.run([HAPROXY, "-c", "-q", "-f", str(config)], check=True)
    return subprocess.Popen([HAPROXY, "-db", "-f", str(config)], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_ready(proc: subprocess.Popen[bytes], bind: str, seconds: float = 15) -> None:
    """Return once `/healthz` answers 200 through HAProxy (a portal node is up behind it)."""
    host, _, port = bind.rpartition(":")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"haproxy on {bind} exited ({proc.returncode})")
        try:
            with urllib.request.urlopen(f"http://{host or '127.0.0.1'}:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"haproxy on {bind} did not reach a healthy portal node within {seconds:g} s")


def start_haproxy(bind: str, servers: Sequence[str], workdir: Path | None = None) -> subprocess.Popen[bytes]:
    """HAProxy in front of `servers`, returned once it answers (stopped again if it does not)."""
    proc = spawn_haproxy(bind, servers, workdir)
    try:
        wait_ready(proc, bind)
    except BaseException:
        stop_haproxy(proc)
        raise
    return proc


def stop_haproxy(proc: subprocess.Popen[bytes]) -> None:
    stop_process_groups([proc], 10.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="HAProxy in front of portal nodes (foreground).")
    parser.add_argument("--bind", default="127.0.0.1:8080", help="host:port HAProxy listens on")
    parser.add_argument("--server", action="append", required=True, help="a portal node, host:port (repeat)")
    parser.add_argument("--print-config", action="store_true", help="print the configuration and exit")
    args = parser.parse_args(argv)
    if args.print_config:
        sys.stdout.write(haproxy_config(args.bind, args.server))
        return 0
    proc = spawn_haproxy(args.bind, args.server)

    def forward(signum: int, _frame: object) -> None:
        # Only pass the signal on (HAProxy stops at once); waiting here, inside the main
        # thread's proc.wait(), would deadlock on the Popen's wait lock.
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    try:
        wait_ready(proc, args.bind, 60)
        print(f"haproxy on http://{args.bind} -> {', '.join(args.server)}", flush=True)
        proc.wait()
    finally:
        stop_haproxy(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
