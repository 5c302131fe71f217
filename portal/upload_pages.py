"""Upload pages decide who is asking before they read the body (issue 18, item 6).

flask-wtf's CSRF check runs in a hook before every view, and it looks for its token in the
form: on a multipart upload that parses (and spools) the whole file, so a visitor or a
viewer could make the portal take in hundreds of megabytes only to be refused afterwards.
An upload page is therefore exempt from that hook and runs the very same check itself, just
after its sign-in and role check: a visitor is redirected to sign in, a wrong role gets 403,
both without a byte of the body being read; a forged or missing token still gets 400.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from models import Role
from portal.auth.access import role_required
from portal.body_limits import accepts_uploads
from portal.extensions import csrf

F = TypeVar("F", bound=Callable[..., Any])


def upload_page(*roles: Role) -> Callable[[F], F]:
    """A page that receives files (MAX_UPLOAD_MB): signed in with one of `roles`, then CSRF, then the view."""

    def decorator(view: F) -> F:
        @wraps(view)
        def csrf_checked(*args: Any, **kwargs: Any) -> Any:
            csrf.protect()  # only for POST/PUT/PATCH/DELETE, as the hook would
            return view(*args, **kwargs)

        guarded = accepts_uploads(role_required(*roles)(csrf_checked))
        csrf.exempt(guarded)  # from the hook only: its name is the view's (functools.wraps)
        return guarded  # type: ignore[no-any-return]

    return decorator
