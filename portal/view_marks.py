"""Marking views with a property the app applies after registration (sign-in limits, uploads)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask

F = TypeVar("F", bound=Callable[..., Any])


def mark_view(view: F, mark: str) -> F:
    """Set `mark` on `view`; functools.wraps carries it through outer decorators."""
    setattr(view, mark, True)
    return view


def marked_endpoints(app: Flask, mark: str) -> frozenset[str]:
    """The endpoints of `app` whose view carries `mark`; call after every blueprint is registered."""
    return frozenset(endpoint for endpoint, view in app.view_functions.items() if getattr(view, mark, False))
