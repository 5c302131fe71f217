"""docker-compose.yml is valid for compose itself (no engine needed for `config`)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from settings import PROJECT_ROOT

SERVICES = {"mysql", "redis", "migrate", "web", "worker", "scheduler"}
# The `cluster` profile (docs/cluster.md, docs/scaling.md): started only with --profile cluster.
CLUSTER = {"galera1", "galera2", "galera3", "galera-check", "galera-proxy", "mysql-replica", "replica-setup",
           "redis-cache", "web2", "balancer"}


def _compose() -> list[str] | None:
    """`docker compose` (v2 plugin) when it works, else the standalone `docker-compose`."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


COMPOSE = _compose()
pytestmark = pytest.mark.skipif(COMPOSE is None, reason="no docker compose client on this machine")


def _config(*args: str, secret: str | None = "s" * 48, profiles: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env["COMPOSE_PROFILES"] = profiles
    env.setdefault("PAYOUT_DETAILS_KEY", "A" * 43 + "=")
    if secret is not None:
        env["SECRET_KEY"] = secret
    return subprocess.run([*COMPOSE, "config", *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)


def test_compose_file_is_valid_and_has_every_service():
    import yaml

    result = _config()
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    # Compose v1 lists every service in `config`; which ones a plain `up` starts is their profile's say.
    assert {name for name, s in services.items() if not s.get("profiles")} == SERVICES
    assert {name for name, s in services.items() if s.get("profiles")} <= CLUSTER
    assert all(s["profiles"] == ["cluster"] for s in services.values() if s.get("profiles"))
    cluster = _config(profiles="cluster")
    assert cluster.returncode == 0, cluster.stderr
    assert set(yaml.safe_load(cluster.stdout)["services"]) == SERVICES | CLUSTER


def test_compose_refuses_to_start_without_a_secret():
    result = _config("-q", secret=None)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_workers_can_be_scaled_and_services_have_healthchecks():
    import yaml

    result = _config()
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)["services"]
    # --scale worker=N needs a worker without a fixed name or published port.
    assert "container_name" not in config["worker"] and "ports" not in config["worker"]
    for name in ("mysql", "redis", "web", "worker", "scheduler"):
        assert "healthcheck" in config[name], name
    assert config["web"]["environment"]["PAYSYSTEM_ENV"] == "production"
