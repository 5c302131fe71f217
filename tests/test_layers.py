"""The house's layers, checked by reading every module's imports with `ast`.

Arrows point down only: `settings` imports nothing of ours; `models/` imports only itself; `jobs/` and `portal/` import `models/` and the settings, and `portal/`
reaches `jobs/` only through `jobs/enqueue.py`; the command line (`paysystem/`) sits on top.
No import circle anywhere, imports inside functions included (they run later, but they
run), and none between the portal's packages. The app is assembled in one place
(portal/app_factory.py): no module touches Flask's hook lists itself. The batch jobs look the
database engine up once per entry point and hand it down.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.source_support import parse_python

ROOT = Path(__file__).resolve().parent.parent
OURS = ("settings", "models", "jobs", "portal", "paysystem", "migrations")
# What each top-level package may import of ours (besides itself).
ALLOWED = {
    "settings": set(),
    "models": set(),
    "jobs": {"models", "settings"},
    "portal": {"models", "settings", "jobs.enqueue"},
    "migrations": {"models", "settings"},
    "paysystem": {"settings", "models", "jobs", "portal", "migrations"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for top in OURS:
        base = ROOT / top
        for path in sorted(base.rglob("*.py")):
            if "versions" in path.parts:  # alembic revisions are loaded by alembic, by path
                continue
            found[_module_name(path)] = path
    return found


def _imports(path: Path, name: str, modules: dict[str, Path]) -> Iterator[tuple[str, bool]]:
    """(imported module of ours, at module level?) for every import statement in the file."""
    tree = parse_python(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    top_level = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import sub` imports the submodule when there is one.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        for target in targets:
            if target.split(".")[0] in OURS:
                yield target, id(node) in top_level


def _graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    modules = _modules()
    every: dict[str, set[str]] = {}
    eager: dict[str, set[str]] = {}
    for name, path in modules.items():
        every[name], eager[name] = set(), set()
        for target, at_top in _imports(path, name, modules):
            every[name].add(target)
            if at_top:
                eager[name].add(target)
                eager[name].update(_packages_run_first(name, target, modules))
    return every, eager


def _packages_run_first(importer: str, target: str, modules: dict[str, Path]) -> set[str]:
    """Importing `a.b.c` first runs the packages `a` and `a.b` (their `__init__`), unless they
    are the importer's own packages (already being imported). `portal.upload_limits` importing
    `portal.seller_portal.formatting` ran `portal/seller_portal/__init__.py`, whose views import
    `portal.upload_limits` again: a circle only gunicorn's import order showed."""
    parts = target.split(".")
    own = {".".join(importer.split(".")[:i]) for i in range(1, importer.count(".") + 2)}
    return {pkg for i in range(1, len(parts)) if (pkg := ".".join(parts[:i])) in modules
            and modules[pkg].name == "__init__.py" and pkg not in own}


def _allowed(importer: str, target: str) -> bool:
    layer, goal = importer.split(".")[0], target.split(".")[0]
    if layer == goal:
        return True
    return any(target == rule or target.startswith(rule + ".") or (rule == goal and "." not in rule)
               for rule in ALLOWED[layer])


def test_every_arrow_points_down() -> None:
    every, _ = _graph()
    assert len(every) > 50, "the walk found too few modules"
    wrong = sorted(f"{importer} -> {target}" for importer, targets in every.items() for target in targets
                   if not _allowed(importer, target))
    assert wrong == []


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one node (or a node importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in graph:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            members = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                members.append(member)
                if member == node:
                    break
            if len(members) > 1 or node in graph.get(node, ()):
                circles.append(sorted(members))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return circles


def test_no_import_circle() -> None:
    _, eager = _graph()
    assert _circles(eager) == []


def test_no_circle_hidden_in_a_function_level_import() -> None:
    """An import inside a function still runs, only later: a circle it closes is a circle all
    the same (portal/auth/views and portal/auth/recovery once imported each other that way)."""
    every, _ = _graph()
    modules = _modules()
    graph = {name: {t for target in targets for t in (target, *_packages_run_first(name, target, modules))}
             for name, targets in every.items()}
    assert _circles(graph) == []


def _portal_package(module: str) -> str | None:
    """`portal.api.auth` -> `portal.api`; a top-level module of the portal is its own node."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "portal" else None


def test_no_circle_between_portal_packages() -> None:
    """The portal's packages form layers too, counting imports inside functions: shared pieces
    sit below the packages that use them (portal/playback below portal/api and portal/watch),
    so no package reaches into one that reaches back (portal/api and portal/playback did)."""
    every, _ = _graph()
    graph: dict[str, set[str]] = {}
    for importer, targets in every.items():
        if (source := _portal_package(importer)) is None:
            continue
        graph.setdefault(source, set())
        graph[source].update(t for target in targets if (t := _portal_package(target)) not in (None, source))
    assert len(graph) > 20, "the walk found too few portal packages"
    assert _circles(graph) == []


def test_the_walk_sees_a_violation() -> None:
    """The checker itself: an upward arrow and a lateral one are refused, downward ones pass."""
    assert not _allowed("models.figures.tables", "jobs.pipeline")
    assert not _allowed("settings", "models")
    assert not _allowed("portal.watch.views", "jobs.run_steps")
    assert not _allowed("jobs.run_steps", "portal.database")
    assert not _allowed("jobs.cli", "paysystem.synthetic_data")
    assert _allowed("portal.admin_users", "jobs.enqueue")
    assert _allowed("portal.api", "models.figures.tables")
    assert _allowed("paysystem.cli", "jobs.cli")


def test_views_and_commands_never_commit() -> None:
    """The transaction rule (models/db.py): service functions commit, views and CLI commands
    do not. The synthetic-data loader is a bulk writer of its own, not a command."""
    callers = [*sorted((ROOT / "portal").rglob("*.py")), ROOT / "paysystem" / "cli.py", ROOT / "jobs" / "cli.py"]
    committing = []
    for path in callers:
        for node in ast.walk(parse_python(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit":
                committing.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert committing == []


def test_every_import_of_ours_names_a_module_that_exists() -> None:
    """A stale import (a module moved by one change, imported by another merged beside it) fails
    only when that module is first imported, which the unit tests may never do."""
    modules = _modules()
    missing = sorted(f"{importer} -> {target}" for importer, targets in _graph()[0].items()
                     for target in targets if target not in modules)
    assert missing == []


HOOK_LISTS = {"before_request_funcs", "after_request_funcs", "teardown_request_funcs", "teardown_appcontext_funcs",
              "template_context_processors", "url_value_preprocessors", "url_default_functions",
              "error_handler_spec"}


def _hook_list_uses(source: str) -> list[int]:
    return [node.lineno for node in ast.walk(parse_python(source))
            if isinstance(node, ast.Attribute) and node.attr in HOOK_LISTS]


def test_no_module_touches_flask_hook_lists() -> None:
    """Hooks are registered with app.before_request(...) and friends, in the order the app
    factory declares (portal/app_factory.py FIRST_HOOKS, EXTENSIONS, ...): a module that
    inserts itself at the front of a hook list makes the order depend on which init ran last."""
    touching = [f"{path.relative_to(ROOT)}:{line}" for top in ("portal", "paysystem", "jobs", "models")
                for path in sorted((ROOT / top).rglob("*.py")) for line in _hook_list_uses(path.read_text())]
    assert touching == []
    assert _hook_list_uses("app.before_request_funcs.setdefault(None, []).insert(0, hook)") == [1]
    assert _hook_list_uses("app.before_request(hook)") == []


def _engine_lookups(source: str) -> dict[str, int]:
    """engine_for(...) calls per function (by name) of a module."""
    found: dict[str, int] = {}
    for function in ast.walk(parse_python(source)):
        if not isinstance(function, ast.FunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "engine_for":
                found[function.name] = found.get(function.name, 0) + 1
    return found


def test_batch_jobs_look_the_engine_up_once_per_entry_point() -> None:
    """A job, a command or a public function of jobs/ looks the engine up once and hands it down;
    helpers (outside the command modules, whose helpers are the commands' own steps) and
    anything already given an engine take it as a parameter."""
    wrong = []
    for path in sorted((ROOT / "jobs").glob("*.py")):
        source = path.read_text()
        takes_engine = {f.name for f in ast.walk(parse_python(source)) if isinstance(f, ast.FunctionDef)
                        and any(a.arg == "engine" for a in [*f.args.args, *f.args.kwonlyargs])}
        for function, calls in _engine_lookups(source).items():
            helper = function.startswith("_") and not path.name.endswith("cli.py")
            if calls > 1 or helper or function in takes_engine:
                wrong.append(f"{path.name}: {function} ({calls})")
    assert wrong == []
    assert _engine_lookups("def _helper(s):\n    return engine_for(s.database_url)\n") == {"_helper": 1}


def test_batch_modules_stay_small() -> None:
    """jobs/runs.py grew to 480 lines doing five things; a jobs module past this size is split by
    what it does (planning, steps, retries, run state, ...)."""
    large = [f"{path.name}: {n}" for path in sorted((ROOT / "jobs").glob("*.py"))
             if (n := len(path.read_text().splitlines())) > 400]
    assert large == []
