"""The README's first command ends in `paysystem up`: SQLite, embedded Redis, demo, Ctrl-C.

This starts it as a user would (no REDIS_URL) and checks `GET /` answers 200 within
two minutes and that Ctrl-C stops every process it started.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from settings import PROJECT_ROOT
from tests.support import free_port

pytestmark = pytest.mark.slow


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except OSError:
        return 0


def _session_members(sid: int) -> list[str]:
    return subprocess.run(["pgrep", "-s", str(sid)], capture_output=True, text=True).stdout.split()


def test_up_serves_the_demo_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DATABASE_URL")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'first.db'}", MEDIA_ROOT=str(tmp_path / "media"))
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "paysystem", "up", "--port", str(port)],
        env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    output: list[str] = []
    try:
        url = f"http://127.0.0.1:{port}/"
        while time.monotonic() - started < 120 and _get(url) != 200:
            assert proc.poll() is None, "paysystem up exited early"
            time.sleep(0.5)
        assert _get(url) == 200, "GET / did not answer 200 within 2 minutes"
        assert _get(f"http://127.0.0.1:{port}/healthz") == 200
        # Ctrl-C in a terminal signals the whole process group.
        os.killpg(proc.pid, signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            print(subprocess.run(["ps", "-o", "pid,ppid,pgid,stat,cmd", "-s", str(proc.pid)], capture_output=True,
                                 text=True).stdout)
            raise
        output.append(out)
    except BaseException:
        if proc.poll() is None or _session_members(proc.pid):
            # every service sits in a process group of its own inside the session: end them all, or one
            # left (the embedded Redis) keeps the output pipe open and communicate() never returns
            for pid in _session_members(proc.pid):
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            proc.communicate(timeout=30)
        raise
    text = "".join(output)
    assert "PaySystem is running at" in text
    assert "seller1@demo.paysystem.test" in text
    redis_port = re.search(r"embedded Redis at redis://127.0.0.1:(\d+)", text)
    assert redis_port, text[-2000:]
    assert _get(url) == 0, "the portal is still answering after Ctrl-C"
    # nothing it started is left: each service has a process group of its own inside the session
    time.sleep(0.5)
    remaining = subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True, text=True).stdout.split()
    assert remaining == [], f"processes left behind: {remaining}"
