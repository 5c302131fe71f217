"""Who signed in at a provider, read from what that provider answers.

OpenID Connect providers (Google, any generic OIDC) say it in the verified ID token.
Kakao and Naver are plain OAuth 2: their user-info endpoints answer in their own shapes,
`{"id": 123, "kakao_account": {"email": ...}}` and `{"response": {"id": ..., "email": ...}}`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from models.accounts.service import AccountError
from models.accounts.social import SocialProfile


class ProfileError(AccountError):
    """The provider's answer does not say who signed in: the sign-in is refused (400), start again."""

    kind = "bad_request"
    code = "unusable_profile"


def _flag(value: Any) -> bool:
    # Some providers send booleans as strings.
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _subject(provider: str, value: Any) -> str:
    if value is None or isinstance(value, bool) or str(value).strip() == "":
        raise ProfileError(f"{provider} did not say who signed in (no subject / id)")
    return str(value)


def oidc_profile(provider: str, claims: Mapping[str, Any]) -> SocialProfile:
    return SocialProfile(
        provider=provider,
        subject=_subject(provider, claims.get("sub")),
        email=_text(claims.get("email")),
        email_verified=_flag(claims.get("email_verified")),
        name=_text(claims.get("name")) or _text(claims.get("preferred_username")) or _text(claims.get("nickname")),
    )


def kakao_profile(provider: str, data: Mapping[str, Any]) -> SocialProfile:
    account = data.get("kakao_account") or {}
    profile = account.get("profile") or {}
    properties = data.get("properties") or {}
    return SocialProfile(
        provider=provider,
        subject=_subject(provider, data.get("id")),
        email=_text(account.get("email")),
        # Kakao marks an address usable only when it is both verified and still valid.
        email_verified=_flag(account.get("is_email_verified")) and _flag(account.get("is_email_valid")),
        name=_text(profile.get("nickname")) or _text(properties.get("nickname")),
    )


def naver_profile(provider: str, data: Mapping[str, Any]) -> SocialProfile:
    if data.get("resultcode") not in (None, "00"):
        raise ProfileError(f"{provider} refused the user-info request: {data.get('message', data.get('resultcode'))}")
    response = data.get("response") or {}
    return SocialProfile(
        provider=provider,
        subject=_subject(provider, response.get("id")),
        email=_text(response.get("email")),
        # Naver only hands out the address of the signed-in Naver account, which Naver verified.
        email_verified=True,
        name=_text(response.get("name")) or _text(response.get("nickname")),
    )


# Plain OAuth 2 providers, by preset name: how to read their user-info answer.
OAUTH2_PROFILE_READERS: dict[str, Callable[[str, Mapping[str, Any]], SocialProfile]] = {
    "kakao": kakao_profile,
    "naver": naver_profile,
}
