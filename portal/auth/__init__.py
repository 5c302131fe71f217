"""Browser accounts: flask-login sessions backed by `users`, e-mail and social sign-in."""

# `linking`, `social`, `recovery`, `verification` and `account_changes` add their routes to `bp`
# when imported.
from portal.auth import account_changes, linking, recovery, social, verification  # noqa: F401
from portal.auth.access import role_required
from portal.auth.views import bp

__all__ = ["bp", "role_required"]
