"""Catalog pages: browsing published videos, sellers' uploads, admins' ads (§3)."""

from portal.catalog.views import bp

__all__ = ["bp"]
