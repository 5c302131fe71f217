"""A development instance reachable from other machines must not sign with the published secret.

DEV_SECRET_KEY is in the repository, so anyone who can reach a development portal could
forge its session cookies (sign in as any account). On loopback only the developer can;
on any other address (`--host 0.0.0.0`) the launcher picks a random secret for the run,
and gunicorn started by hand refuses to serve with the published one.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Iterable, Mapping

from settings import DEV_SECRET_KEY


class PublicBindError(RuntimeError):
    """The portal would listen beyond loopback with the published development secret."""


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or name, IPv6 with or without brackets) is this machine only."""
    host = host.strip().strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name that may resolve anywhere, or a wildcard


def _host_of(bind: str) -> str | None:
    """The host part of a gunicorn bind ("HOST:PORT", "[V6]:PORT", "unix:PATH", "fd://N"); None for sockets."""
    if bind.startswith(("unix:", "fd://")):
        return None
    if bind.startswith("["):
        return bind[1:bind.index("]")]
    return bind.rpartition(":")[0] if ":" in bind else bind


def secret_for_host(host: str, env: Mapping[str, str]) -> str:
    """The SECRET_KEY a development run on `host` should use: the configured one, unless it is the
    published development secret (or unset) and `host` is not loopback: then a random one."""
    configured = env.get("SECRET_KEY") or DEV_SECRET_KEY
    if configured == DEV_SECRET_KEY and not is_loopback(host):
        return secrets.token_urlsafe(48)
    return configured


def check_bind(binds: Iterable[str], secret_key: str) -> None:
    """Refuse to listen beyond loopback while signing with the published development secret."""
    if secret_key != DEV_SECRET_KEY:
        return
    public = [bind for bind in binds if (host := _host_of(bind)) is not None and not is_loopback(host)]
    if public:
        raise PublicBindError(
            f"refusing to listen on {', '.join(public)} with the published development SECRET_KEY: anyone "
            "reaching it could forge sign-ins. Set SECRET_KEY to a random value "
            "(python -c 'import secrets; print(secrets.token_urlsafe(48))') or bind to 127.0.0.1."
        )
