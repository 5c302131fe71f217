"""The accounts list's question (`/admin/users/` and `GET /api/v1/admin/users`)."""

from __future__ import annotations

from pydantic import Field

from models import Role
from models.accounts.service import MAX_USERS_PAGE
from portal.queries.base import LenientQuery
from portal.queries.fields import Page, rows_per_page


class AdminUsersQuery(LenientQuery):
    q: str = Field("", description="A fragment of the e-mail address or the display name.")
    role: Role | None = Field(None, description="Only accounts with this role.")
    page: Page = 1
    per_page: int = rows_per_page(50, MAX_USERS_PAGE, f"Accounts per page (at most {MAX_USERS_PAGE}).")
