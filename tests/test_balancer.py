"""HAProxy in front of portal nodes (issue 23, paysystem/balancer.py): the configuration HAProxy
accepts, the compose file's copy of it, and requests spread over two real nodes."""

from __future__ import annotations

import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from paysystem.balancer import HAPROXY, haproxy_config, start_haproxy, stop_haproxy
from settings import PROJECT_ROOT
from tests.support import free_port

needs_haproxy = pytest.mark.skipif(shutil.which(HAPROXY) is None, reason="needs haproxy")


def test_the_compose_files_haproxy_config_is_the_balancers():
    """docker/haproxy-web.cfg is generated, not edited: regenerate it with
    `python -m paysystem.balancer --bind '*:8080' --server web:8000 --server web2:8000 --print-config`."""
    assert (PROJECT_ROOT / "docker" / "haproxy-web.cfg").read_text() == haproxy_config(
        "*:8080", ["web:8000", "web2:8000"])


@needs_haproxy
def test_haproxy_accepts_the_configuration(tmp_path):
    config = tmp_path / "haproxy.cfg"
    config.write_text(haproxy_config("127.0.0.1:8080", ["127.0.0.1:8001", "127.0.0.1:8002"]))
    checked = subprocess.run([HAPROXY, "-c", "-f", str(config)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


class _Node(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        body = self.server.name.encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@needs_haproxy
def test_requests_of_one_keep_alive_connection_are_spread_over_the_nodes(tmp_path):
    """gunicorn's imbalance was per connection; HAProxy balances per request."""
    nodes = []
    for name in ("a", "b"):
        server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Node)
        server.name = name  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        nodes.append(server)
    bind = f"127.0.0.1:{free_port()}"
    proc = start_haproxy(bind, [f"127.0.0.1:{n.server_address[1]}" for n in nodes], tmp_path)
    try:
        with requests.Session() as one_connection:
            seen = [one_connection.get(f"http://{bind}/x", timeout=5).text for _ in range(20)]
        assert set(seen) == {"a", "b"}
        assert 5 <= seen.count("a") <= 15, seen
    finally:
        stop_haproxy(proc)
        for node in nodes:
            node.shutdown()
