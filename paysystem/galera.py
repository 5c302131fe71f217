"""A 3-node MariaDB Galera cluster behind HAProxy on loopback, for tests and local runs.

Real processes, no containers: each node is a `mariadbd` with its own datadir and ports,
node 1 bootstraps the cluster (`--wsrep-new-cluster`), nodes 2 and 3 join it by rsync SST.
HAProxy gives one address (`writer_port`) that sends every connection to ONE node (node 1,
the others are `backup`): Galera's certification lets several writers commit conflicting
rows and then fails one of them at commit (deadlock 1213), so the usual safe setup writes
through one node and keeps the others as hot standbys.

HAProxy's own mysql-check only proves a node accepts connections; a node that lost its
quorum or is still receiving a state transfer accepts them too and then answers
"WSREP has not yet prepared node for application use" (1047). So a small HTTP health
server (`check-server`, one port per node) answers 200 only when the node says
`wsrep_local_state = 4` (Synced) and `wsrep_ready = ON`, and HAProxy checks that instead.

    python -m paysystem.galera start | status | stop | kill-node N | start-node N

The pieces are separate functions (`start_nodes`, `start_health`, `start_haproxy`) so
`scripts/cluster.sh` can add more of them (a replica, web nodes) to the same topology.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

GALERA_PROVIDER = os.environ.get("GALERA_PROVIDER", "/usr/lib/galera/libgalera_smm.so")
SYNCED = 4  # wsrep_local_state of a node that is in step with the cluster
WSREP_GTID_DOMAIN = 1  # the GTID domain of every writeset the cluster replicates


@dataclass(frozen=True)
class Layout:
    """Where the cluster lives: a base directory and a block of loopback ports.

    With base port B: HAProxy's writer address is B, node n's SQL port B+n, its Galera
    group port B+10+n, IST port B+20+n, SST port B+30+n, health check port B+40+n, and
    HAProxy's statistics page B+40.
    """

    root: Path
    base_port: int
    nodes: int = 3

    @classmethod
    def from_env(cls) -> Layout:
        return cls(Path(os.environ.get("PAYSYSTEM_CLUSTER_DIR", "/tmp/paysystem-cluster")),
                   int(os.environ.get("PAYSYSTEM_CLUSTER_PORT", "3400")))

    @property
    def writer_port(self) -> int:
        return self.base_port

    @property
    def stats_port(self) -> int:
        return self.base_port + 40

    def sql_port(self, n: int) -> int:
        return self.base_port + n

    def group_port(self, n: int) -> int:
        return self.base_port + 10 + n

    def check_port(self, n: int) -> int:
        return self.base_port + 40 + n

    def ist_port(self, n: int) -> int:
        return self.base_port + 20 + n

    def sst_port(self, n: int) -> int:
        return self.base_port + 30 + n

    def ports(self) -> set[int]:
        """Every port the cluster listens on: whatever else runs beside it (cluster-web.sh's
        replica) must keep clear of them, or a node that rejoins cannot open its IST listener."""
        per_node = (self.sql_port, self.group_port, self.ist_port, self.sst_port, self.check_port)
        return {self.writer_port, self.stats_port} | {port(n) for n in range(1, self.nodes + 1) for port in per_node}

    def datadir(self, n: int) -> Path:
        return self.root / f"node{n}" / "data"

    def node_dir(self, n: int) -> Path:
        return self.root / f"node{n}"

    def pidfile(self, n: int) -> Path:
        return self.node_dir(n) / "mariadbd.pid"

    def socket(self, n: int) -> Path:
        return self.node_dir(n) / "mariadbd.sock"

    @property
    def writer_url(self) -> str:
        """The server URL (no database) the application and the tests use."""
        return f"mysql+pymysql://root@127.0.0.1:{self.writer_port}"


# -- nodes ------------------------------------------------------------------------------

def server_id(n: int) -> int:
    """Node n's server_id (and its local gtid_domain_id): 10+n, clear of the private primary (1)
    and the read replica (2) of scripts/cluster-web.sh — a replica skips events that carry its
    own server_id."""
    return 10 + n


def node_config(layout: Layout, n: int) -> str:
    members = ",".join(f"127.0.0.1:{layout.group_port(i)}" for i in range(1, layout.nodes + 1))
    provider_options = ";".join([
        f"gmcast.listen_addr=tcp://127.0.0.1:{layout.group_port(n)}",
        f"ist.recv_addr=127.0.0.1:{layout.ist_port(n)}",
        "gcache.size=64M",
        # A killed node is declared gone after ~3 s instead of the default 5+ s.
        "evs.suspect_timeout=PT3S", "evs.inactive_timeout=PT6S", "evs.keepalive_period=PT0.5S",
    ])
    return f"""[mariadbd]
datadir={layout.datadir(n)}
socket={layout.socket(n)}
pid-file={layout.pidfile(n)}
log-error={layout.node_dir(n) / 'error.log'}
port={layout.sql_port(n)}
bind-address=127.0.0.1
skip-name-resolve
max_connections=400
innodb_buffer_pool_size=128M
innodb_log_file_size=64M
innodb_flush_log_at_trx_commit=2
character-set-server=utf8mb4
collation-server=utf8mb4_unicode_ci
binlog_format=ROW
default_storage_engine=InnoDB
innodb_autoinc_lock_mode=2
wsrep_on=ON
wsrep_provider={GALERA_PROVIDER}
wsrep_cluster_name=paysystem
wsrep_cluster_address=gcomm://{members}
wsrep_node_name=node{n}
wsrep_node_address=127.0.0.1:{layout.group_port(n)}
wsrep_provider_options="{provider_options}"
wsrep_sst_method=rsync
wsrep_sst_receive_address=127.0.0.1:{layout.sst_port(n)}
wsrep_slave_threads=2
# A binary log an asynchronous replica can follow (GTID): every node logs its own and the
# other nodes' writesets (log_slave_updates). wsrep_gtid_mode (one cluster-wide GTID, so a
# replica could move between nodes) is OFF: with it ON the failover test failed 2 of 2 runs
# (the new writer answered 1146 for the batch's just-created temporary table); see
# docs/cluster.md. GALERA_WSREP_GTID_MODE=ON turns it on.
server_id={server_id(n)}
log_bin=node{n}-bin
log_slave_updates=ON
wsrep_gtid_mode={os.environ.get("GALERA_WSREP_GTID_MODE", "OFF")}
wsrep_gtid_domain_id={WSREP_GTID_DOMAIN}
gtid_domain_id={server_id(n)}
"""


def _chown_mysql(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, "mysql", "mysql")


def prepare_node(layout: Layout, n: int) -> None:
    node_dir = layout.node_dir(n)
    node_dir.mkdir(parents=True, exist_ok=True)
    _chown_mysql(layout.root)
    _chown_mysql(node_dir)
    (node_dir / "my.cnf").write_text(node_config(layout, n))
    if not (layout.datadir(n) / "mysql").exists():
        layout.datadir(n).mkdir(parents=True, exist_ok=True)
        _chown_mysql(layout.datadir(n))
        if n == 1:  # the joiners receive node 1's datadir by SST
            subprocess.run(["mariadb-install-db", f"--defaults-file={node_dir / 'my.cnf'}", "--user=mysql",
                            "--auth-root-authentication-method=normal", "--skip-test-db"],
                           check=True, stdout=subprocess.DEVNULL)


def _grastate(layout: Layout, n: int) -> dict[str, str]:
    path = layout.datadir(n) / "grastate.dat"
    if not path.exists():
        return {}
    return dict(line.split(":", 1) for line in path.read_text().splitlines() if ":" in line and not line.startswith("#"))


def _mark_safe_to_bootstrap(layout: Layout, n: int) -> None:
    """After a crash of the whole cluster no node says safe_to_bootstrap: 1; this dev tool then
    takes node `n` (its data is as good as any, all nodes had committed the same writesets)."""
    path = layout.datadir(n) / "grastate.dat"
    if path.exists():
        path.write_text(path.read_text().replace("safe_to_bootstrap: 0", "safe_to_bootstrap: 1"))


def node_pid(layout: Layout, n: int) -> int | None:
    try:
        pid = int(layout.pidfile(n).read_text().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def start_node(layout: Layout, n: int, *, bootstrap: bool = False) -> None:
    if node_pid(layout, n):
        return
    prepare_node(layout, n)
    args = ["mariadbd", f"--defaults-file={layout.node_dir(n) / 'my.cnf'}", "--user=mysql"]
    if bootstrap:
        _mark_safe_to_bootstrap(layout, n)
        args.append("--wsrep-new-cluster")
    with open(layout.node_dir(n) / "stdout.log", "ab") as out:
        subprocess.Popen(args, stdout=out, stderr=out, start_new_session=True)


def node_status(layout: Layout, n: int) -> dict[str, str]:
    """The node's wsrep status variables, read over its own port; {} when it does not answer."""
    return server_status("127.0.0.1", layout.sql_port(n))


def server_status(host: str, port: int) -> dict[str, str]:
    import pymysql

    try:
        conn = pymysql.connect(host=host, port=port, user=os.environ.get("GALERA_CHECK_USER", "root"),
                               password=os.environ.get("GALERA_CHECK_PASSWORD", ""), connect_timeout=2,
                               read_timeout=2)
    except pymysql.MySQLError:
        return {}
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW GLOBAL STATUS WHERE Variable_name IN "
                        "('wsrep_local_state', 'wsrep_ready', 'wsrep_cluster_size', 'wsrep_cluster_status',"
                        " 'wsrep_local_state_comment')")
            return {name: value for name, value in cur.fetchall()}
    except pymysql.MySQLError:
        return {}
    finally:
        conn.close()


def is_synced(status: dict[str, str]) -> bool:
    return status.get("wsrep_local_state") == str(SYNCED) and status.get("wsrep_ready") == "ON"


def wait_synced(layout: Layout, n: int, *, cluster_size: int | None = None, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = node_status(layout, n)
        if is_synced(status) and (cluster_size is None or status.get("wsrep_cluster_size") == str(cluster_size)):
            return
        if not node_pid(layout, n) and time.monotonic() > deadline - timeout + 10:
            raise RuntimeError(f"node {n} is not running; see {layout.node_dir(n) / 'error.log'}")
        time.sleep(0.3)
    raise RuntimeError(f"node {n} not Synced after {timeout:.0f} s: {node_status(layout, n)}")


def _grant_tcp_root(layout: Layout) -> None:
    """root over TCP without a password, as on the development server (replicated by Galera)."""
    subprocess.run(["mariadb", f"--socket={layout.socket(1)}", "-uroot", "-e",
                    "CREATE USER IF NOT EXISTS 'root'@'%'; "
                    "GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;"], check=True)


def start_nodes(layout: Layout) -> None:
    """Bootstrap the node that may be bootstrapped (node 1 on a fresh cluster), join the others."""
    running = [n for n in range(1, layout.nodes + 1) if node_pid(layout, n)]
    if not running:
        first = next((n for n in range(1, layout.nodes + 1)
                      if _grastate(layout, n).get("safe_to_bootstrap", "").strip() == "1"), 1)
        start_node(layout, first, bootstrap=True)
        wait_synced(layout, first)
        if first == 1 and not (layout.node_dir(1) / "granted").exists():
            _grant_tcp_root(layout)
            (layout.node_dir(1) / "granted").touch()
        running = [first]
    for n in range(1, layout.nodes + 1):
        if n not in running:
            start_node(layout, n)
            wait_synced(layout, n)  # one joiner at a time: each takes a state transfer from a donor
    wait_synced(layout, 1, cluster_size=layout.nodes)


def _running(pid: int) -> bool:
    """Alive and not a zombie: a node started by an earlier command is an orphan, and an exited
    orphan stays a zombie until init reaps it (seconds on some machines), though it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True


def stop_node(layout: Layout, n: int, *, sig: int = signal.SIGTERM, timeout: float = 60) -> None:
    pid = node_pid(layout, n)
    if pid is None:
        return
    os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _running(pid):
        time.sleep(0.2)
    if sig == signal.SIGKILL:
        layout.pidfile(n).unlink(missing_ok=True)


# -- health check -------------------------------------------------------------------------

class _CheckHandler(http.server.BaseHTTPRequestHandler):
    target: tuple[str, int]

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        status = server_status(*self.target)
        ok = is_synced(status)
        body = json.dumps({"node": f"{self.target[0]}:{self.target[1]}", "synced": ok, **status}).encode()
        self.send_response(200 if ok else 503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_OPTIONS = do_GET  # noqa: N815 - HAProxy's default check method

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def check_targets(layout: Layout) -> list[tuple[tuple[str, int], tuple[str, int]]]:
    """(listen address, node address) of each health listener: the layout's loopback ports, or
    GALERA_CHECK_TARGETS="host:port,..." listening on GALERA_CHECK_LISTEN (default 0.0.0.0)
    from port GALERA_CHECK_PORT (default 9201) up — the docker-compose cluster profile's way."""
    given = os.environ.get("GALERA_CHECK_TARGETS")
    if not given:
        return [(("127.0.0.1", layout.check_port(n)), ("127.0.0.1", layout.sql_port(n)))
                for n in range(1, layout.nodes + 1)]
    listen, first = os.environ.get("GALERA_CHECK_LISTEN", "0.0.0.0"), int(os.environ.get("GALERA_CHECK_PORT", "9201"))
    targets = []
    for i, item in enumerate(part.strip() for part in given.split(",") if part.strip()):
        host, _, port = item.rpartition(":")
        targets.append(((listen, first + i), (host, int(port))))
    return targets


def serve_health(layout: Layout) -> None:
    """One HTTP listener per node, answering 200 while that node is Synced and ready."""
    servers = []
    for listen, target in check_targets(layout):
        handler = type("Check", (_CheckHandler,), {"target": target})
        server = http.server.ThreadingHTTPServer(listen, handler)
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    threading.Event().wait()


def _pid_alive(path: Path) -> int | None:
    try:
        pid = int(path.read_text().split()[0])
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError, IndexError):
        return None


def start_health(layout: Layout) -> None:
    pidfile = layout.root / "health.pid"
    if _pid_alive(pidfile):
        return
    with open(layout.root / "health.log", "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "paysystem.galera", "check-server"], stdout=out, stderr=out,
                                start_new_session=True, cwd=Path(__file__).resolve().parent.parent,
                                env={**os.environ, "PAYSYSTEM_CLUSTER_DIR": str(layout.root),
                                     "PAYSYSTEM_CLUSTER_PORT": str(layout.base_port)})
    pidfile.write_text(str(proc.pid))
    _wait_port(layout.check_port(layout.nodes))


# -- HAProxy ------------------------------------------------------------------------------

def haproxy_config(layout: Layout) -> str:
    servers = []
    for n in range(1, layout.nodes + 1):
        role = "on-marked-up shutdown-backup-sessions" if n == 1 else "backup"
        servers.append(f"    server node{n} 127.0.0.1:{layout.sql_port(n)} check port {layout.check_port(n)} {role}")
    server_lines = "\n".join(servers)
    return f"""global
    maxconn 4000
    pidfile {layout.root / 'haproxy.pid'}

defaults
    mode tcp
    timeout connect 2s
    timeout client 8h
    timeout server 8h

# One writer, the others hot standbys: a node is in service while its health check says Synced.
# A node marked down has its connections cut at once (the client gets "lost connection",
# retries, and lands on the next node) rather than hang on a dead socket.
listen galera-writer
    bind 127.0.0.1:{layout.writer_port}
    option httpchk
    http-check expect status 200
    default-server inter 500ms fastinter 250ms downinter 1s fall 2 rise 3 on-marked-down shutdown-sessions
{server_lines}

listen stats
    mode http
    bind 127.0.0.1:{layout.stats_port}
    stats enable
    stats uri /
"""


def start_haproxy(layout: Layout) -> None:
    pidfile = layout.root / "haproxy.pid"
    if _pid_alive(pidfile):
        return
    config = layout.root / "haproxy.cfg"
    config.write_text(haproxy_config(layout))
    subprocess.run(["haproxy", "-c", "-q", "-f", str(config)], check=True)
    subprocess.run(["haproxy", "-D", "-f", str(config)], check=True)
    _wait_port(layout.writer_port)


def _wait_port(port: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def current_writer(layout: Layout) -> str | None:
    """The node HAProxy sends new connections to: the first server that is UP, node 1 first."""
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{layout.stats_port}/;csv", timeout=2) as resp:
            rows = resp.read().decode().splitlines()
    except OSError:
        return None
    header = rows[0].lstrip("# ").split(",")
    up = {}
    for row in rows[1:]:
        fields = dict(zip(header, row.split(","), strict=False))
        if fields.get("pxname") == "galera-writer" and fields.get("svname", "").startswith("node"):
            up[fields["svname"]] = fields.get("status") == "UP"
    return next((name for name in sorted(up) if up[name]), None)


# -- the whole ----------------------------------------------------------------------------

def start(layout: Layout) -> None:
    layout.root.mkdir(parents=True, exist_ok=True)
    start_nodes(layout)
    start_health(layout)
    start_haproxy(layout)
    deadline = time.monotonic() + 15
    while current_writer(layout) is None and time.monotonic() < deadline:
        time.sleep(0.2)


def stop(layout: Layout) -> None:
    for pidfile in (layout.root / "haproxy.pid", layout.root / "health.pid"):
        pid = _pid_alive(pidfile)
        if pid:
            os.kill(pid, signal.SIGTERM)
        pidfile.unlink(missing_ok=True)
    # The last node to leave is the one that may bootstrap next time: node 1.
    for n in range(layout.nodes, 0, -1):
        stop_node(layout, n)


def status(layout: Layout) -> dict[str, object]:
    return {
        "writer_url": layout.writer_url,
        "writer": current_writer(layout),
        "haproxy_stats": f"http://127.0.0.1:{layout.stats_port}/",
        "nodes": {f"node{n}": {"pid": node_pid(layout, n), "port": layout.sql_port(n), **node_status(layout, n)}
                  for n in range(1, layout.nodes + 1)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m paysystem.galera", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["start", "status", "stop", "kill-node", "start-node", "check-server",
                                            "destroy"])
    parser.add_argument("node", nargs="?", type=int)
    args = parser.parse_args(argv)
    layout = Layout.from_env()
    if args.command == "start":
        start(layout)
        print(json.dumps(status(layout), indent=2))
    elif args.command == "status":
        print(json.dumps(status(layout), indent=2))
    elif args.command == "stop":
        stop(layout)
    elif args.command == "destroy":
        stop(layout)
        shutil.rmtree(layout.root, ignore_errors=True)
    elif args.command == "kill-node":
        stop_node(layout, args.node, sig=signal.SIGKILL)
    elif args.command == "start-node":
        start_node(layout, args.node)
        wait_synced(layout, args.node)
    elif args.command == "check-server":
        serve_health(layout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
