"""The cluster's configuration without running it: the HAProxy and node configs
paysystem/galera.py writes, and docker-compose.yml's `cluster` profile (the running cluster is
tested in tests/test_cluster.py, behind the `cluster` marker)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from paysystem.galera import Layout, check_targets, haproxy_config, node_config
from settings import PROJECT_ROOT


def test_haproxy_sends_every_connection_to_one_writer_and_keeps_the_others_as_backups(tmp_path):
    layout = Layout(tmp_path, 3400)
    config = haproxy_config(layout)
    servers = [line.split() for line in config.splitlines() if line.strip().startswith("server node")]
    assert [s[1] for s in servers] == ["node1", "node2", "node3"]
    assert "backup" not in servers[0] and all("backup" in s for s in servers[1:])
    # Checked by the Synced-aware health server, not by a bare TCP/mysql connect.
    assert [s[s.index("port") + 1] for s in servers] == ["3441", "3442", "3443"]
    assert "option allbackups" not in config  # one backup at a time: still a single writer
    if shutil.which("haproxy"):
        (tmp_path / "haproxy.cfg").write_text(config)
        checked = subprocess.run(["haproxy", "-c", "-f", str(tmp_path / "haproxy.cfg")], capture_output=True,
                                 text=True)
        assert checked.returncode == 0, checked.stderr


def test_each_node_has_its_own_ports_and_the_settings_galera_needs(tmp_path):
    layout = Layout(tmp_path, 3400)
    configs = [node_config(layout, n) for n in (1, 2, 3)]
    for n, config in enumerate(configs, start=1):
        options = dict(line.split("=", 1) for line in config.splitlines() if "=" in line)
        assert options["port"] == str(3400 + n)
        assert options["binlog_format"] == "ROW" and options["innodb_autoinc_lock_mode"] == "2"
        assert options["wsrep_sst_method"] == "rsync"
        assert options["wsrep_cluster_address"] == "gcomm://127.0.0.1:3411,127.0.0.1:3412,127.0.0.1:3413"
        assert options["datadir"] == str(tmp_path / f"node{n}" / "data")
    assert check_targets(layout)[1] == (("127.0.0.1", 3442), ("127.0.0.1", 3402))


def test_compose_cluster_profile_has_the_same_shape():
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    cluster = {name for name, service in services.items() if "cluster" in service.get("profiles", [])}
    assert cluster >= {"galera1", "galera2", "galera3", "galera-check", "galera-proxy"}
    # Outside the profile nothing changed: `docker compose up` starts what it always did.
    assert {"mysql", "redis", "migrate", "web", "worker", "scheduler"} <= set(services) - cluster
    assert "--wsrep-new-cluster" in services["galera1"]["command"]
    for name in ("galera2", "galera3"):
        assert "--wsrep-new-cluster" not in services[name]["command"]
        assert "--binlog_format=ROW" in services[name]["command"]
    assert services["galera-check"]["command"][-1] == "check-server"
    haproxy = Path(PROJECT_ROOT / "deploy/cluster/haproxy.cfg").read_text()
    servers = [line.split() for line in haproxy.splitlines() if line.strip().startswith("server galera")]
    assert "backup" not in servers[0] and all("backup" in s for s in servers[1:])


def test_every_node_writes_a_gtid_binlog_an_async_replica_can_follow(tmp_path):
    """A MariaDB replica follows one Galera node by GTID: each node logs its own and the other
    nodes' writesets; server ids stay clear of cluster-web's private primary (1) and replica
    (2), whose events a replica with the same id would skip."""
    layout = Layout(tmp_path, 3400)
    options = [dict(line.split("=", 1) for line in node_config(layout, n).splitlines() if "=" in line)
               for n in (1, 2, 3)]
    for n, node in enumerate(options, start=1):
        assert node["log_bin"] == f"node{n}-bin" and node["log_slave_updates"] == "ON"
        assert node["wsrep_gtid_mode"] == "OFF"  # ON broke the failover test (docs/cluster.md)
    assert len({node["server_id"] for node in options}) == 3
    assert not {node["server_id"] for node in options} & {"1", "2"}
    assert len({node["wsrep_gtid_domain_id"] for node in options}) == 1
    local_domains = {node["gtid_domain_id"] for node in options}
    assert len(local_domains) == 3 and options[0]["wsrep_gtid_domain_id"] not in local_domains


def test_cluster_script_starts_the_web_side_on_galera_with_the_replica_on_a_node():
    script = (PROJECT_ROOT / "scripts/cluster.sh").read_text()
    assert '"${CLUSTER_PIECES:-galera web}"' in script  # the database first, then the web side
    assert 'DATABASE_URL="mysql+pymysql://root@127.0.0.1:${PAYSYSTEM_CLUSTER_PORT}/${DB_NAME}"' in script
    assert 'REPLICA_SOURCE="127.0.0.1:$((PAYSYSTEM_CLUSTER_PORT + REPLICA_SOURCE_NODE))"' in script
    # A new replica is seeded from a consistent copy with the source's GTID position, not from the
    # start of the binlog, which a node rejoined by a state transfer no longer has (docs/cluster.md).
    web = (PROJECT_ROOT / "scripts/cluster-web.sh").read_text()
    assert "--single-transaction --master-data=1 --gtid" in web and "MASTER_USE_GTID=slave_pos" in web
    checked = subprocess.run(["bash", "-n", str(PROJECT_ROOT / "scripts/cluster.sh")], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_the_web_side_keeps_clear_of_every_port_of_the_cluster(tmp_path):
    """cluster-web.sh's private primary and replica once sat on 3420/3421, node 1's IST port:
    a node killed by the failover test could not open its IST listener when it rejoined, and
    its state transfer failed."""
    import re

    script = (PROJECT_ROOT / "scripts/cluster-web.sh").read_text()
    defaults = {name: value for name, value in re.findall(r"^(\w+_PORTS?)=\$\{\w+:-\"?([\d ]+)\"?\}", script, re.M)}
    assert set(defaults) >= {"PRIMARY_PORT", "REPLICA_PORT", "BALANCER_PORT", "WEB_PORTS", "REDIS_QUEUE_PORT"}
    web_ports = {int(port) for value in defaults.values() for port in value.split()}
    layout = Layout(tmp_path, 3400)
    assert len(layout.ports()) == 2 + 5 * 3  # writer, statistics; per node SQL, group, IST, SST, check
    assert {layout.ist_port(1), layout.sst_port(3)} == {3421, 3433}
    assert not web_ports & layout.ports()
