"""The fast loop (`scripts/test.sh -m "not slow"`) stays fast: a test that starts a server
process (gunicorn, an RQ worker, the scheduler, Redis, MariaDB, Chromium) must be marked
`@pytest.mark.slow` (or sit in a module whose `pytestmark` has it). Read from the source, so
a new test that forgets the mark fails here instead of slowing everyone's loop down."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.source_support import parse_python

TESTS = Path(__file__).resolve().parent

# Calls that start a process serving something (tests/ops_support.py start_process runs
# `paysystem worker|scheduler|...`, tests/security_support.py private_redis a redis-server,
# tests/mariadb_support.py PrivateMariaDB a mariadbd; Popen covers gunicorn and the rest).
STARTERS = {"Popen", "start_process", "start_worker", "private_redis", "PrivateMariaDB", "sync_playwright"}
# Fixtures of tests/conftest.py that start Chromium.
STARTING_FIXTURES = {"browser", "page"}


def _called_names(node: ast.AST) -> set[str]:
    names = set()
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            func = call.func
            if isinstance(func, ast.Name):
                names.add(func.id)
            elif isinstance(func, ast.Attribute):
                names.add(func.attr)
    return names


def _has_slow(expressions: list[ast.expr]) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr == "slow" for e in expressions for n in ast.walk(e))


def _is_fixture(fn: ast.FunctionDef) -> bool:
    return any("fixture" in ast.unparse(d) for d in fn.decorator_list)


def _parametrized(fn: ast.FunctionDef) -> set[str]:
    """Argument names a test gets from @pytest.mark.parametrize (a `page` there is a value, not
    the Chromium fixture of that name)."""
    names: set[str] = set()
    for d in fn.decorator_list:
        if (isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr == "parametrize"
                and d.args and isinstance(d.args[0], ast.Constant) and isinstance(d.args[0].value, str)):
            names |= {n.strip() for n in d.args[0].value.split(",")}
    return names


def unmarked_server_tests(path: Path) -> list[str]:
    """The tests of one module that start a server without the slow mark."""
    tree = parse_python(path.read_text(), str(path))
    module_slow = any(isinstance(s, ast.Assign) and any(getattr(t, "id", "") == "pytestmark" for t in s.targets)
                      and _has_slow([s.value]) for s in tree.body)
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    # Helpers and fixtures of the module that start servers, followed through each other.
    starting = set(STARTERS)
    starting_fixtures = set(STARTING_FIXTURES)
    changed = True
    while changed:
        changed = False
        for fn in functions:
            if fn.name.startswith("test_") or fn.name in starting:
                continue
            params = {a.arg for a in fn.args.args}
            if _called_names(fn) & starting or (_is_fixture(fn) and params & starting_fixtures):
                starting.add(fn.name)
                if _is_fixture(fn):
                    starting_fixtures.add(fn.name)
                changed = True
    offenders = []
    for fn in functions:
        if not fn.name.startswith("test_"):
            continue
        params = {a.arg for a in fn.args.args} - _parametrized(fn)
        if (_called_names(fn) & starting or params & starting_fixtures) and not (
                module_slow or _has_slow(fn.decorator_list)):
            offenders.append(f"{path.name}::{fn.name}")
    return offenders


def test_every_test_that_starts_a_server_is_marked_slow():
    offenders = [name for path in sorted(TESTS.glob("test_*.py")) for name in unmarked_server_tests(path)]
    assert offenders == [], "mark these @pytest.mark.slow (they start server processes):\n" + "\n".join(offenders)


def test_the_check_sees_a_server_started_through_a_fixture(tmp_path):
    module = tmp_path / "test_example.py"
    module.write_text(
        "import pytest\n"
        "@pytest.fixture\n"
        "def portal():\n"
        "    return subprocess.Popen(['gunicorn'])\n"
        "def test_uses_it(portal):\n"
        "    pass\n"
        "def test_drives_chromium(page):\n"
        "    pass\n"
        "@pytest.mark.slow\n"
        "def test_marked(portal):\n"
        "    pass\n"
        "def test_plain():\n"
        "    pass\n")
    assert unmarked_server_tests(module) == ["test_example.py::test_uses_it", "test_example.py::test_drives_chromium"]


def test_test_modules_parse_our_source_through_the_race_proof_helper():
    """A bare ast.parse in a test can fail spuriously while a server thread of the same worker
    formats a traceback (tests/source_support.py): every parse goes through parse_python."""
    bare = [f"{path.name}:{node.lineno}" for path in sorted(TESTS.glob("*.py")) if path.name != "source_support.py"
            for node in ast.walk(parse_python(path.read_text(), str(path)))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "parse"
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "ast"]
    assert bare == []
