"""Typed request and response schemas of the accounts admin API (portal/api/admin_users.py).

spectree validates the requests with these models and builds /api/v1/openapi.json from them;
the list's query is portal/queries/accounts.py (the accounts page reads it too).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from models import Role
from portal.api.auth_schemas import Account
from portal.api.paging_schemas import PageFields


class AccountChange(BaseModel):
    """What to change: the role or whether the account is active (one per request: each is its
    own unit of work, so a refused second change never leaves the first half-applied)."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = Field(None, description="The new role.")
    active: StrictBool | None = Field(None, description="false switches the account off (its sessions end, its tokens "
                                                  "stop working; its views and money history stay), true on again.")

    @model_validator(mode="after")
    def _something(self) -> AccountChange:
        if (self.role is None) == (self.active is None):
            raise ValueError('send either "role" or "active"')
        return self


class AdminUserPage(PageFields):
    users: list[Account] = Field(description="Newest first.")
    total: int
