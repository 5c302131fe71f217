"""Test fixtures: real MariaDB and Redis, a fresh database per session, an isolated Redis DB.

Services default to the usual local addresses and can be moved with
TEST_DATABASE_URL (server URL without a database name) and TEST_REDIS_URL.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from models import Role, User
from models.accounts import passwords
from models.accounts.service import create_user
from models.db import make_engine, make_sessionmaker
from settings import Settings

# The seller portal's generated data set and its app (tests/portal_support.py).
from tests.portal_support import portal_app, portal_data  # noqa: E402,F401,I001

# The §13 money scene's scratch database (tests/statement_support.py).
from tests.statement_support import money_backend  # noqa: E402,F401,I001
from tests.support import (
    MYSQL_SERVER_URL,
    REDIS_SERVER_URL,
    TEST_PASSWORD,
    TEST_SECRET,
    drop_mysql_database,
    migrated_mysql_database,
    server_url,
    unique_email,
)

_REDIS_LOCK_PREFIX = "paysystem:test-db-lock:"

# Accounts made by the tests are hashed at argon2's cheapest cost (the why: passwords.py);
# tests/test_password_cost.py checks the standard cost in a process of its own.
passwords.hash_at_minimal_cost()


def _unreachable(what: str, url: str, exc: Exception, hint: str) -> None:
    pytest.exit(f"{what} at {url} is unreachable ({type(exc).__name__}: {exc}).\n{hint}", returncode=3)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh MariaDB database, migrated to head, for this test session."""
    try:
        server = make_engine(server_url())
        with server.connect():
            pass
        server.dispose()
    except Exception as exc:
        _unreachable(
            "MariaDB/MySQL",
            MYSQL_SERVER_URL,
            exc,
            "Start it (start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd) "
            "or point TEST_DATABASE_URL at a server where the user may create databases.",
        )
    url = migrated_mysql_database()
    yield url
    drop_mysql_database(url)


@pytest.fixture(scope="session", autouse=True)
def _revocation_feeds_end_before_the_database(database_url: str) -> Iterator[None]:
    """Every app's token-revocation feed (a background thread reloading from the database) is
    stopped before the session's database is dropped, so none reports the missing tables."""
    yield
    import gc

    from portal.revocations import PING_EVERY, RevocationMirror

    for mirror in [obj for obj in gc.get_objects() if isinstance(obj, RevocationMirror)]:
        mirror.stop()
    time.sleep(PING_EVERY)  # a feed waits at most half of this for a message before it looks


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis DB number no other concurrent test session uses, flushed before use."""
    base = REDIS_SERVER_URL.rstrip("/")
    try:
        control = Redis.from_url(base + "/0", socket_connect_timeout=2)
        control.ping()
    except Exception as exc:
        _unreachable(
            "Redis",
            REDIS_SERVER_URL,
            exc,
            "Start it (redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no) "
            "or point TEST_REDIS_URL at a server.",
        )
    token = f"{os.getpid()}-{uuid.uuid4().hex}"
    for number in range(1, 16):
        if control.set(_REDIS_LOCK_PREFIX + str(number), token, nx=True, ex=4 * 3600):
            break
    else:
        pytest.exit("all Redis DB numbers 1-15 are taken by other test sessions", returncode=3)
    url = f"{base}/{number}"
    client = Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    if control.get(_REDIS_LOCK_PREFIX + str(number)) == token.encode():
        control.delete(_REDIS_LOCK_PREFIX + str(number))


@pytest.fixture(scope="module")
def backend(request: pytest.FixtureRequest, redis_url: str, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A scratch database of the module's own (tests/batch_support.py `Backend`), MariaDB unless
    the module lists kinds in `BACKENDS` (each kind's tests then run in turn) or a test asks for
    one with `@pytest.mark.parametrize("backend", [...], indirect=True)`. Tests that need it
    empty call `backend.reset()`. A module's `BACKEND_SETTINGS` (a dict) changes its settings."""
    from tests.batch_support import Backend

    kind = getattr(request, "param", "mariadb")
    overrides = getattr(request.module, "BACKEND_SETTINGS", {})
    b = Backend(kind, redis_url, tmp_path_factory.mktemp(f"backend-{kind}"), **overrides)
    yield b
    b.close()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    kinds = getattr(metafunc.module, "BACKENDS", None)
    if kinds and "backend" in metafunc.fixturenames and not any(
            "backend" in m.args[0] for m in metafunc.definition.iter_markers("parametrize")):
        metafunc.parametrize("backend", kinds, indirect=True, scope="module")


@pytest.fixture
def redis(redis_url: str) -> Redis:
    return Redis.from_url(redis_url)


@pytest.fixture(scope="session")
def media_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def settings(database_url: str, redis_url: str, media_root: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        redis_url=redis_url,
        secret_key=TEST_SECRET,
        media_root=media_root,
    ).validate()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session on the session-wide test database; tests commit what they need."""
    session = session_factory()
    yield session
    session.rollback()
    session.close()


@pytest.fixture(scope="session")
def app(settings: Settings):  # type: ignore[no-untyped-def]
    from portal import create_app

    return create_app(settings)


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def make_user(session_factory: sessionmaker[Session]):  # type: ignore[no-untyped-def]
    """Create committed users with unique e-mails: make_user(Role.SELLER)."""

    def _make(role: Role = Role.VIEWER, password: str = TEST_PASSWORD, email: str | None = None) -> User:
        with session_factory() as session:
            user = create_user(session, email=email or unique_email(role.value), password=password, role=role)
            session.commit()
            session.refresh(user)
            session.expunge(user)
            return user

    return _make


class LiveServer:
    """The app served over real HTTP on a loopback port, in a background thread."""

    def __init__(self, app, port: int = 0) -> None:  # type: ignore[no-untyped-def]
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    server = LiveServer(app).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def portal_server(portal_app) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]  # noqa: F811
    """The generated data set's app over HTTP, for the seller portal's browser tests."""
    server = LiveServer(portal_app).start()
    yield server
    server.stop()


# Debian's headless shell (package chromium-headless-shell): Chromium's engine without the
# browser's UI. The full browser's headless mode runs that UI too (its browser process and
# WebUI renderers): the every-page check took 40 s of user CPU with it and 26 s with the shell.
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium-headless-shell")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    """Headless Debian Chromium driven by Playwright (no browser download)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: apt-get install -y chromium-headless-shell (or set CHROMIUM_PATH)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Installed before any page script of every document: reports the page's
# Content-Security-Policy violations to the test (a DevTools binding, outside the policy).
CSP_LISTENER = """() => document.addEventListener('securitypolicyviolation', (e) =>
  window.reportCspViolation(e.violatedDirective + ' ' + e.blockedURI + ' on ' + location.pathname))"""


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    """A Chromium page with the portal's Content-Security-Policy enforced (issue 13, defect 10):
    every browser test also checks that its pages work under the policy; a violation on any
    page the test opened fails it. (Wait with tests/browser_support.py `wait_for_js`:
    Playwright's wait_for_function needs eval in the page, which the policy refuses.)"""
    context = browser.new_context()
    violations: list[str] = []
    context.expose_function("reportCspViolation", lambda report: violations.append(report))
    context.add_init_script(f"({CSP_LISTENER})()")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
    assert violations == [], violations


# Seconds each module took in a full run (setup, call and teardown of its tests, 3 workers on
# this 2-core machine): the order modules are handed out in. Refresh it after the suite changed
# much: TEST_STORE_MODULE_SECONDS=1 scripts/test.sh rewrites it at the end of the run.
MODULE_SECONDS = Path(__file__).with_name("module_seconds.json")
SLOW_TEST_SECONDS = 8.0  # a test marked slow, in a module the file does not know
TEST_SECONDS = 0.3  # any other test there


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longest modules first: pytest-xdist hands out whole modules in this order (`--dist
    loadfile --no-loadscope-reorder`; its default reorders them by their number of tests, which put
    the one-test modules that take half a minute or more, the every-page browser check and the
    demo, last: one worker was busy for minutes after the others had nothing left)."""
    known = json.loads(MODULE_SECONDS.read_text()) if MODULE_SECONDS.is_file() else {}
    weight: dict[str, float] = {}
    for item in items:
        module = item.nodeid.split("::")[0]
        guess = SLOW_TEST_SECONDS if item.get_closest_marker("slow") else TEST_SECONDS
        weight[module] = weight.get(module, 0.0) + guess
    weight |= {module: seconds for module, seconds in known.items() if module in weight}
    items.sort(key=lambda item: -weight[item.nodeid.split("::")[0]])


_module_seconds: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if os.environ.get("TEST_STORE_MODULE_SECONDS") == "1":
        module = report.nodeid.split("::")[0]
        _module_seconds[module] = _module_seconds.get(module, 0.0) + report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    # The controller (or the only process) sees every report; an xdist worker only its own.
    if _module_seconds and not os.environ.get("PYTEST_XDIST_WORKER"):
        ranked = sorted(_module_seconds.items(), key=lambda kv: -kv[1])
        MODULE_SECONDS.write_text(json.dumps({m: round(t, 1) for m, t in ranked if t >= 1.0}, indent=0) + "\n")
