"""Catalog pages: browsing published videos, sellers' uploads, admins' ads (§3)."""

from portal.catalog import manage  # noqa: F401  (adds the edit / delete routes to bp)
from portal.catalog.views import bp

__all__ = ["bp"]
