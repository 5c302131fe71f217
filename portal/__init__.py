"""The PaySystem portal: a server-rendered Flask + htmx app and its JSON API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from settings import Settings, load_settings

if TYPE_CHECKING:
    from flask import Flask


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app (portal/app_factory.py); refuses to start on unsafe settings (see Settings.validate).

    The factory is imported here, not at the top: importing any `portal.*` module runs this
    package first, which must not load the whole app."""
    settings = (settings or load_settings()).validate()
    from portal.app_factory import build_app

    return build_app(settings)
