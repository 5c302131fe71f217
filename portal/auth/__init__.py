"""Browser sign-in: flask-login sessions backed by `users`."""

from portal.auth.access import role_required
from portal.auth.views import bp

__all__ = ["bp", "role_required"]
