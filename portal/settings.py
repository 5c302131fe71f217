"""Access to the `Settings` the app was created with."""

from __future__ import annotations

from flask import current_app

from settings import Settings


def settings() -> Settings:
    return current_app.config["PAYSYSTEM_SETTINGS"]
