"""What a browser session remembers about signing in: the user, a social identity waiting
to be linked, and where to go after a social sign-in."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from flask import redirect, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, logout_user

from models import User
from models.accounts.social import SocialProfile
from portal.auth.redirects import safe_next
from portal.auth.server_sessions import end_sessions, start_session

_PENDING_LINK = "paysystem.pending_link"
_SOCIAL_NEXT = "paysystem.social_next"
# A pending link is a decision the owner makes right away; an old one is dropped.
PENDING_LINK_SECONDS = 15 * 60


@dataclass(frozen=True)
class PendingLink:
    """A social identity nobody owns yet, waiting for `user_id`'s owner to confirm it."""

    user_id: int
    provider: str
    label: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None
    expires_at: float

    @property
    def profile(self) -> SocialProfile:
        return SocialProfile(
            provider=self.provider,
            subject=self.subject,
            email=self.email,
            email_verified=self.email_verified,
            name=self.name,
        )


def remember_pending_link(profile: SocialProfile, user_id: int, label: str) -> None:
    pending = PendingLink(
        user_id=user_id,
        provider=profile.provider,
        label=label,
        subject=profile.subject,
        email=profile.email,
        email_verified=profile.email_verified,
        name=profile.name,
        expires_at=time.time() + PENDING_LINK_SECONDS,
    )
    session[_PENDING_LINK] = asdict(pending)


def pending_link() -> PendingLink | None:
    data = session.get(_PENDING_LINK)
    if not isinstance(data, dict):
        return None
    try:
        pending = PendingLink(**data)
    except TypeError:
        session.pop(_PENDING_LINK, None)
        return None
    if pending.expires_at < time.time():
        session.pop(_PENDING_LINK, None)
        return None
    return pending


def clear_pending_link() -> None:
    session.pop(_PENDING_LINK, None)


def remember_social_next(target: str) -> None:
    session[_SOCIAL_NEXT] = safe_next(target, default="")


def pop_social_next() -> str:
    return session.pop(_SOCIAL_NEXT, "") or ""


def sign_in(user: User, *, next_url: str | None, remember: bool = False) -> ResponseReturnValue:
    """Start the flask-login session and send the browser on (the service that checked the
    sign-in has committed it).

    A social identity waiting to be linked to this very account takes precedence over
    `next`: the owner is asked about it before anything else.
    """
    start_session(user, remember=remember)
    pending = pending_link()
    if pending is not None and pending.user_id == user.id:
        return redirect(url_for("auth.link"))
    # Sellers (and admins) land on their dashboard (§11), viewers on the home page.
    return redirect(safe_next(next_url, default=url_for("seller_portal.dashboard") if user.is_seller else "/"))


def sign_out() -> None:
    end_sessions(current_user._get_current_object())
    logout_user()
    clear_pending_link()
    session.pop(_SOCIAL_NEXT, None)
