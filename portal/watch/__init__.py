"""The player page, the browser player's playback endpoints and media (§4–§5)."""

from portal.watch.views import bp

__all__ = ["bp"]
