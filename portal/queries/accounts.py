"""The accounts questions: the accounts list (`/admin/users/` and `GET /api/v1/admin/users`), its
role and active forms, the sign-in pages' arguments and the API's sign-in body."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator

from models import Role
from models.accounts.service import MAX_USERS_PAGE, SIGNUP_ROLES
from portal.queries.base import LenientQuery
from portal.queries.fields import Page, Switch, rows_per_page
from portal.queries.parse import Body


class AdminUsersQuery(LenientQuery):
    q: str = Field("", description="A fragment of the e-mail address or the display name.")
    role: Role | None = Field(None, description="Only accounts with this role.")
    page: Page = 1
    per_page: int = rows_per_page(50, MAX_USERS_PAGE, f"Accounts per page (at most {MAX_USERS_PAGE}).")


def _signup_role(role: Role) -> Role:
    """Only the roles a person may choose for themselves (models/accounts/service.py SIGNUP_ROLES)."""
    if role not in SIGNUP_ROLES:
        raise ValueError(f"choose one of {', '.join(r.value for r in SIGNUP_ROLES)}")
    return role


SignupRole = Annotated[Role, AfterValidator(_signup_role)]
# A `next` target as sent; portal/auth/redirects.py `safe_next` keeps only paths on this site.
NextTarget = Annotated[str, Field(max_length=2048)]


class AuthQuery(LenientQuery):
    """The sign-in and sign-up pages' query string: where to go afterwards and the role to preselect."""

    next: NextTarget = ""
    role: SignupRole | None = None


class SocialStartForm(LenientQuery):
    """The social sign-in buttons' form: the role of an account made by it, where to go afterwards."""

    role: SignupRole = Role.VIEWER
    next: NextTarget = ""


class SocialCallbackQuery(LenientQuery):
    """The provider's answer as far as we read it ourselves (authlib reads code and state again)."""

    error: Annotated[str, Field(max_length=200)] | None = None
    state: Annotated[str, Field(max_length=500)] = ""

    @property
    def state_role(self) -> Role | None:
        """The role the sign-in started with (the state is `"<role>.<random>"`, portal/auth/social.py),
        None when it names none a person may choose. Read only after authlib has checked that this
        browser was given this state: a forged state is refused as unverified, not as a bad role."""
        role = self.state.partition(".")[0]
        return Role(role) if role in {r.value for r in SIGNUP_ROLES} else None


class LinkAnswerForm(LenientQuery):
    """The answer on the page that links a waiting social sign-in: its two buttons."""

    action: Literal["link", "decline"]


class UserRoleForm(LenientQuery):
    """The accounts page's role picker."""

    role: Role


class UserActiveForm(LenientQuery):
    """The accounts page's switch: 0 deactivates, 1 reactivates."""

    active: Switch


class AttemptedAccount(LenientQuery):
    """The e-mail a sign-in attempt names (the page's form field or the API's JSON `email`), as the
    key of its per-account limit (portal/login_limits.py). It never refuses: the limit is taken
    before the view, whose own form or schema judges the value; anything but text names no account."""

    email: str = ""

    @field_validator("email", mode="before")
    @classmethod
    def _normalised(cls, value: object) -> str:
        return value.strip().lower()[:254] if isinstance(value, str) else ""


def _named(email: str) -> str:
    if not email.strip():
        raise ValueError("the e-mail address is blank")
    return email


class TokenRequest(Body):
    """E-mail and password (as JSON; an HTML form with the same fields works too)."""

    email: Annotated[str, AfterValidator(_named)] = Field(min_length=1,
                                                          description="The account's e-mail address (any case).")
    password: str = Field(min_length=1)
