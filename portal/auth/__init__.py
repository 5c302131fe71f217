"""Browser accounts: flask-login sessions backed by `users`, e-mail and social sign-in."""

from portal.auth.access import role_required
from portal.auth.views import bp

__all__ = ["bp", "role_required"]
