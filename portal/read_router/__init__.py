"""The thin router in front of Flask for cached API reads (issue 19, item 3): see router.py."""

from portal.read_router.router import ReadRouter

__all__ = ["ReadRouter"]
