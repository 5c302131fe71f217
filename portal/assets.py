"""Static files: built once, named by their content, precompressed, served by WhiteNoise.

Our own CSS and scripts (portal/static) and the installed third-party browser code (htmx,
plotly.js's basic partial bundle and Swagger UI from node_modules) are copied into
`STATIC_BUILD_DIR` under names that carry a hash of their content, with Brotli and gzip
copies beside them. A changed file gets a new name, so every file can be cached by browsers
for a year (`Cache-Control: immutable`) and a page never runs a stale script. Third-party
code is installed at set-up (npm ci), never copied into the repository.

The build runs at set-up (`paysystem build-static`, called by scripts/setup.sh) and again
when the app starts and finds the build missing or older than its sources, under a file
lock, so several gunicorn workers starting at once build it once.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from flask import Flask
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

from models.errors import NotFound
from settings import Settings

_log = logging.getLogger(__name__)
OWN_STATIC = Path(__file__).parent / "static"
URL_PREFIX = "/static/"
_MANIFEST = "manifest.json"
_FILES = "files"


def vendor_sources(node_modules: Path) -> dict[str, Path]:
    """Third-party browser files by the name pages ask for; only these are served.

    plotly.js is its npm *basic* partial bundle (bar, scatter, pie: every trace type the
    portal draws, portal/seller_portal/charts.py), a quarter of the full library.
    """
    return {
        "vendor/htmx.min.js": node_modules / "htmx.org" / "dist" / "htmx.min.js",
        "vendor/plotly.min.js": node_modules / "plotly.js-basic-dist-min" / "plotly-basic.min.js",
        "vendor/swagger-ui-bundle.js": node_modules / "swagger-ui-dist" / "swagger-ui-bundle.js",
        "vendor/swagger-ui.css": node_modules / "swagger-ui-dist" / "swagger-ui.css",
    }


def sources(settings: Settings) -> dict[str, Path]:
    """Every file the build serves, by logical name ("css/app.css", "vendor/htmx.min.js")."""
    found = {path.relative_to(OWN_STATIC).as_posix(): path
             for path in sorted(OWN_STATIC.rglob("*")) if path.is_file()}
    for name, path in vendor_sources(settings.node_modules).items():
        if path.is_file():
            found[name] = path
        else:
            _log.warning("%s is not installed (%s); run the set-up command (npm ci)", name, path)
    return found


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def hashed_name(name: str, digest: str) -> str:
    """css/app.css + its digest -> css/app.3f9c2a1b7d4e.css"""
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.{digest[:12]}.{suffix}" if dot and "/" not in suffix else f"{name}.{digest[:12]}"


@dataclass(frozen=True)
class Build:
    """A finished build: where its files are and what each logical name is called there."""

    root: Path
    urls: dict[str, str]

    def url(self, name: str) -> str:
        """The URL of `name`; an unknown or uninstalled file gets a URL that answers 404."""
        return self.urls.get(name) or URL_PREFIX + "missing/" + name


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_manifest(directory: Path) -> dict[str, object] | None:
    try:
        return json.loads((directory / _MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def build(settings: Settings, *, quiet: bool = True) -> Build:
    """Copy, hash and precompress every source whose build is missing or out of date.

    Files of earlier builds stay: a page rendered just before a deploy still finds its
    scripts. The manifest is written last (atomically), so a reader sees a whole build.
    """
    directory = settings.static_build_dir
    root = directory / _FILES
    wanted = {name: (path, _digest(path)) for name, path in sources(settings).items()}
    with _locked(directory):
        compressor = Compressor(quiet=quiet, log=_log.info)
        files: dict[str, str] = {}
        for name, (path, digest) in wanted.items():
            target = root / hashed_name(name, digest)
            if not target.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                partial = target.with_name(target.name + ".part")
                shutil.copyfile(path, partial)
                os.replace(partial, target)
                if compressor.should_compress(target.name):
                    compressor.compress(str(target))
            files[name] = target.relative_to(root).as_posix()
        manifest = {"sources": {name: digest for name, (_, digest) in wanted.items()}, "files": files}
        partial_manifest = directory / (_MANIFEST + ".part")
        partial_manifest.write_text(json.dumps(manifest, indent=1, sort_keys=True))
        os.replace(partial_manifest, directory / _MANIFEST)
    return _as_build(root, files)


def _as_build(root: Path, files: dict[str, str]) -> Build:
    return Build(root=root, urls={name: URL_PREFIX + file for name, file in files.items()})


def load(settings: Settings) -> Build:
    """The current build, building it first when a source changed since (or there is none)."""
    directory = settings.static_build_dir
    manifest = _read_manifest(directory)
    if manifest is not None:
        current = {name: _digest(path) for name, path in sources(settings).items()}
        files = manifest.get("files")
        if manifest.get("sources") == current and isinstance(files, dict) and \
                all((directory / _FILES / file).is_file() for file in files.values()):
            return _as_build(directory / _FILES, files)
    return build(settings)


def _not_built(filename: str) -> NoReturn:
    raise NotFound(f"There is no static file {filename!r}.")


def _static_headers(headers, _path: str, _url: str) -> None:  # type: ignore[no-untyped-def]
    headers["X-Content-Type-Options"] = "nosniff"


def init_assets(app: Flask, settings: Settings) -> Build:
    """`asset_url(name)` for templates, and WhiteNoise in front of the app for /static/.

    Only the built files are served: names carry their content's hash, so each is
    immutable; WhiteNoise picks the .br or .gz copy the browser accepts.
    """
    current = load(settings)
    immutable = set(current.urls.values())
    # Flask's own `static` endpoint is gone (static_folder=None); rq-dashboard's pages still build
    # a favicon link with it. Built files never reach this rule (WhiteNoise answers them first).
    app.add_url_rule(URL_PREFIX + "<path:filename>", endpoint="static", view_func=_not_built)
    app.jinja_env.globals["asset_url"] = current.url
    app.extensions["paysystem_assets"] = current
    app.wsgi_app = WhiteNoise(  # type: ignore[method-assign]
        app.wsgi_app, root=str(current.root), prefix=URL_PREFIX, max_age=3600, allow_all_origins=False,
        immutable_file_test=lambda _path, url: url in immutable, add_headers_function=_static_headers)
    return current
