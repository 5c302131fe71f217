"""Social identities: who a `(provider, subject)` pair signs in, new social accounts, linking.

A new identity is never attached to an existing account because the e-mails match: the
portal asks the owner to sign in and confirm first (`link_identity` is that last step).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.accounts.service import SIGNUP_ROLES, AccountError, find_user_by_email, normalize_email
from models.accounts.users import Role, SocialIdentity, User
from models.base import utcnow


@dataclass(frozen=True)
class SocialProfile:
    """What a provider told us about the person who just signed in there."""

    provider: str
    subject: str
    email: str | None = None
    email_verified: bool = False
    name: str | None = None

    def __post_init__(self) -> None:
        if not self.subject:
            raise AccountError(f"{self.provider} did not say who signed in (no subject)")
        if self.email is not None:
            try:
                object.__setattr__(self, "email", normalize_email(self.email))
            except AccountError:
                object.__setattr__(self, "email", None)

    @property
    def display_name(self) -> str:
        if self.name and self.name.strip():
            return self.name.strip()[:100]
        if self.email:
            return self.email.split("@")[0][:100]
        return f"{self.provider} user"


def find_identity(session: Session, provider: str, subject: str) -> SocialIdentity | None:
    return session.scalar(
        select(SocialIdentity).where(SocialIdentity.provider == provider, SocialIdentity.subject == subject)
    )


def owner_of_email(session: Session, profile: SocialProfile) -> User | None:
    """The existing account that uses the profile's e-mail, if any."""
    return find_user_by_email(session, profile.email) if profile.email else None


def create_social_user(session: Session, profile: SocialProfile, role: Role) -> User:
    """A new account signed in by this identity; committed.

    The e-mail is kept on the account only when the provider verified it and nobody uses it;
    an unverified address would otherwise lock its real owner out of signing up.
    """
    if role not in SIGNUP_ROLES:
        raise AccountError(f"a new account can be a viewer or a seller, not {role.value}")
    if find_identity(session, profile.provider, profile.subject) is not None:
        raise AccountError("this identity already belongs to an account")
    email = profile.email if profile.email_verified and owner_of_email(session, profile) is None else None
    user = User(
        email=email,
        password_hash=None,
        role=role,
        display_name=profile.display_name,
        is_active=True,
        last_login_at=utcnow(),
        email_verified_at=utcnow() if email else None,  # kept only when the provider verified it
    )
    session.add(user)
    session.add(SocialIdentity(user=user, provider=profile.provider, subject=profile.subject, email=profile.email))
    try:
        session.commit()
    except IntegrityError as exc:  # the same sign-in created an account at the same instant
        session.rollback()
        raise AccountError("This sign-in was just used to create an account; sign in again.", kind="conflict",
                           code="identity_race") from exc
    return user


def link_identity(session: Session, user: User, profile: SocialProfile) -> SocialIdentity:
    """Attach the identity to `user`; committed. The owner has confirmed it."""
    existing = find_identity(session, profile.provider, profile.subject)
    if existing is not None:
        if existing.user_id == user.id:
            return existing
        raise AccountError("this identity is already linked to another account")
    identity = SocialIdentity(user_id=user.id, provider=profile.provider, subject=profile.subject, email=profile.email)
    session.add(identity)
    try:
        session.commit()
    except IntegrityError as exc:  # linked to another account at the same instant
        session.rollback()
        raise AccountError("this identity is already linked to another account", kind="conflict") from exc
    return identity
