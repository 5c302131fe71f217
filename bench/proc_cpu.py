"""CPU time of processes and threads on this machine, from /proc: the benchmarks time the MariaDB
server's work beside their own clocks (bench.pipeline, bench.retention_step)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Connection, text


def stat_cpu_s(stat_path: str) -> float:
    """User + system CPU seconds in a /proc `…/stat` file (OSError when it is not readable)."""
    fields = Path(stat_path).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_pid(conn: Connection) -> int | None:
    """The pid of the MariaDB server behind `conn` when its /proc is readable here, else None.

    Read from the server's own pid file: other MariaDB servers may run on the machine."""
    try:
        pid = int(Path(conn.execute(text("SELECT @@pid_file")).scalar_one()).read_text().strip())
        os.listdir(f"/proc/{pid}/task")
    except (OSError, ValueError):
        return None
    return pid
