"""Request and response models of the token endpoints and `/me` (portal/api/auth_endpoints.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from portal.queries.accounts import TokenRequest

__all__ = ["TokenRequest"]  # the request body, read by its one model in portal/queries
Role = Literal["viewer", "seller", "admin"]


class TokenReply(BaseModel):
    access_token: str = Field(description="A JWT to send as `Authorization: Bearer <token>`.")
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="Seconds until the token expires.")
    expires_at: str = Field(description="When the token expires (ISO 8601).")
    role: Role


class LogoutReply(BaseModel):
    revoked: bool
    jti: str = Field(description="The id of the token now denied.")


class Account(BaseModel):
    """The API's view of an account (never a password hash): `user_payload`'s shape, for `/me`
    and the admin's user listing alike."""

    id: int
    email: str | None = Field(description="Null for an account made by social sign-in without an e-mail.")
    display_name: str
    role: Role
    is_active: bool
    created_at: str | None = Field(description="ISO 8601, UTC.")
    last_login_at: str | None = Field(description="ISO 8601, UTC; null before the first sign-in.")
    providers: list[str] = Field(description="Social sign-in providers linked to the account.")
