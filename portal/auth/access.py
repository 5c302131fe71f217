"""Who may open a page: flask-login for identity, the user's role for permission."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask_login import current_user, login_required

from models import Role, User
from models.accounts.users import active_user
from models.errors import Forbidden
from portal.auth.server_sessions import session_is_current
from portal.database import db_session
from portal.error_pages import forbidden_message
from portal.extensions import login_manager
from portal.numbers import whole_number

F = TypeVar("F", bound=Callable[..., Any])


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    # The session is signed, but its id must still be a usable number (an id beyond BIGINT
    # overflowed the lookup on SQLite: a 500), as every id from outside (portal/numbers.py).
    account_id = whole_number(user_id)
    if account_id is None:
        return None
    user = active_user(db_session(), account_id)
    # A session made before the account's sessions were ended (sign-out elsewhere, password
    # change, deactivation) no longer signs in (portal/auth/server_sessions.py).
    return user if user is not None and session_is_current(user) else None


def role_required(*roles: Role) -> Callable[[F], F]:
    """Signed-in users whose role is one of `roles`; admins pass every role check."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles and current_user.role != Role.ADMIN:
                raise Forbidden(forbidden_message())
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
