"""Social sign-in with authlib: one OAuth client per configured provider.

The role picked at sign-up travels in the OAuth `state` (`"<role>.<random>"`); authlib
keeps the state (and for OpenID Connect the `nonce` and the PKCE verifier) in the signed
session cookie and refuses a callback whose state it did not issue, so a tampered role
never arrives. Who signed in is then resolved by `(provider, subject)` only: an e-mail
match with an existing account leads to a confirmation by that account's owner, never to
a silent link.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from authlib.integrations.flask_client.apps import FlaskOAuth2App
from flask import Flask, current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from joserfc.errors import JoseError

from models import Role
from models.accounts.service import record_sign_in
from models.accounts.social import SocialProfile, create_social_user, find_identity, owner_of_email
from models.accounts.users import is_active_account
from models.errors import BadRequest, DomainError, Forbidden, NotFound, Upstream
from portal.auth.sessions import (
    pop_social_next,
    remember_pending_link,
    remember_social_next,
    sign_in,
)
from portal.auth.social_profiles import OAUTH2_PROFILE_READERS, ProfileError, oidc_profile
from portal.auth.views import bp
from portal.database import db_session
from portal.queries.accounts import SocialCallbackQuery, SocialStartForm
from portal.queries.parse import parse_query
from portal.settings import settings
from settings import ConfigError, OAuthProvider, Settings

_PROVIDERS = "paysystem.oauth_providers"
_OAUTH = "paysystem.oauth"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
# Seconds to wait for a provider's token, discovery and user-info endpoints.
PROVIDER_TIMEOUT = 10


def init_social_login(app: Flask, settings: Settings) -> None:
    """Register an authlib client for every provider switched on in `settings`."""
    oauth = OAuth(app)
    providers: dict[str, OAuthProvider] = {}
    for provider in settings.oauth_providers:
        if not _NAME.match(provider.name):
            raise ConfigError(f"OAuth provider name {provider.name!r} must be lower-case letters, digits, - or _")
        if provider.name in providers:
            raise ConfigError(f"OAuth provider {provider.name!r} is configured twice")
        client_kwargs: dict[str, Any] = {"scope": provider.scope or None, "default_timeout": PROVIDER_TIMEOUT}
        endpoints: dict[str, Any]
        if provider.is_oidc:
            # PKCE on top of state and nonce; providers without it ignore the parameters.
            client_kwargs["code_challenge_method"] = "S256"
            endpoints = {"server_metadata_url": provider.server_metadata_url}
        else:
            if provider.name not in OAUTH2_PROFILE_READERS:
                raise ConfigError(f"OAuth provider {provider.name!r} is not OpenID Connect and has no profile reader")
            if not (provider.authorize_url and provider.access_token_url and provider.userinfo_url):
                raise ConfigError(f"OAuth provider {provider.name!r} needs authorize, token and user-info URLs")
            # Kakao and Naver take the client secret in the token request's form body.
            client_kwargs["token_endpoint_auth_method"] = "client_secret_post"
            endpoints = {"authorize_url": provider.authorize_url, "access_token_url": provider.access_token_url}
        oauth.register(
            provider.name,
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            client_kwargs=client_kwargs,
            **endpoints,
        )
        providers[provider.name] = provider
    app.extensions[_PROVIDERS] = providers
    app.extensions[_OAUTH] = oauth


def enabled_providers() -> list[OAuthProvider]:
    return list(current_app.extensions.get(_PROVIDERS, {}).values())


@bp.context_processor
def _social_providers() -> dict[str, Any]:
    return {"social_providers": enabled_providers()}


def _provider(name: str) -> tuple[OAuthProvider, FlaskOAuth2App]:
    provider = current_app.extensions.get(_PROVIDERS, {}).get(name)
    if provider is None:
        raise NotFound(f"Sign-in with {name!r} is not enabled here.")
    return provider, current_app.extensions[_OAUTH].create_client(name)


def _callback_url(name: str) -> str:
    return settings().public_url(url_for("auth.social_callback", provider=name))


def _role_from_state(answer: SocialCallbackQuery) -> Role:
    role = answer.state_role
    if role is None:
        raise BadRequest("The sign-in request carried no valid role; start again.", code="invalid_state")
    return role


@bp.post("/social/<provider>/start")
def social_start(provider: str) -> ResponseReturnValue:
    """Send the browser to the provider; the chosen role rides in the OAuth state."""
    config, client = _provider(provider)
    form = parse_query(SocialStartForm, request.form)
    remember_social_next(form.next)
    state = f"{form.role.value}.{secrets.token_urlsafe(24)}"
    try:
        return client.authorize_redirect(_callback_url(provider), state=state)
    except (requests.RequestException, AuthlibBaseError, ValueError, RuntimeError) as exc:
        current_app.logger.warning("%s discovery failed: %r", provider, exc)
        raise Upstream(f"{config.label or provider} cannot be reached right now; try again later.") from None


def _read_profile(config: OAuthProvider, client: FlaskOAuth2App, token: dict[str, Any]) -> SocialProfile:
    if config.is_oidc:
        claims = token.get("userinfo")
        if not claims:
            raise ProfileError(f"{config.label or config.name} did not send an ID token")
        claims = dict(claims)
        if not claims.get("email") and client.load_server_metadata().get("userinfo_endpoint"):
            extra = dict(client.userinfo(token=token))
            if str(extra.get("sub")) == str(claims.get("sub")):
                claims = {**extra, **claims, "email": extra.get("email"), "email_verified": extra.get("email_verified")}
        return oidc_profile(config.name, claims)
    response = client.get(config.userinfo_url, token=token)
    response.raise_for_status()
    return OAUTH2_PROFILE_READERS[config.name](config.name, response.json())


@bp.get("/social/<provider>/callback")
def social_callback(provider: str) -> ResponseReturnValue:
    config, client = _provider(provider)
    label = config.label or provider
    answer = parse_query(SocialCallbackQuery)
    if answer.error:
        flash(f"Sign-in with {label} was cancelled or refused ({answer.error}).", "error")
        return redirect(url_for("auth.signin"))
    try:
        token = client.authorize_access_token()
        role = _role_from_state(answer)
        profile = _read_profile(config, client, token)
    except DomainError:
        raise  # our own refusal (ProfileError, 400): a ValueError too, so kept from the clause below
    except (AuthlibBaseError, JoseError) as exc:
        # A state this browser was not given, a wrong nonce, a forged ID token, a refused code.
        current_app.logger.warning("%s sign-in refused: %r", provider, exc)
        raise BadRequest(f"The answer from {label} could not be verified, so nobody was signed in. Start again.",
                         code="unverified_sign_in") from None
    except (requests.RequestException, ValueError) as exc:
        current_app.logger.warning("%s unreachable or answered nonsense: %r", provider, exc)
        raise Upstream(f"{label} did not answer properly; try again later.") from None
    return _sign_in_with(profile, role, label)


def _sign_in_with(profile: SocialProfile, role: Role, label: str) -> ResponseReturnValue:
    session = db_session()
    identity = find_identity(session, profile.provider, profile.subject)
    if identity is not None:
        user = identity.user
        if current_user.is_authenticated and current_user.id != user.id:
            flash(f"That {label} account is already linked to another PaySystem account.", "error")
            return redirect(url_for("auth.account"))
        if not is_active_account(user):
            raise Forbidden("This account is deactivated.")
        record_sign_in(session, user)
        return sign_in(user, next_url=pop_social_next())
    if current_user.is_authenticated:
        # Connecting another provider to the signed-in account: the owner confirms it.
        remember_pending_link(profile, current_user.id, label)
        return redirect(url_for("auth.link"))
    owner = owner_of_email(session, profile)
    if owner is not None:
        remember_pending_link(profile, owner.id, label)
        flash(
            f"An account with the e-mail {profile.email} already exists. Sign in to it to link your "
            f"{label} account; nothing is linked until you confirm.",
            "info",
        )
        return redirect(url_for("auth.signin", next=url_for("auth.link")))
    # A sign-in that created its account at the same instant is refused there (409 identity_race).
    user = create_social_user(session, profile, role)
    flash(f"Welcome, {user.display_name}! Your {role.value} account is ready.", "info")
    return sign_in(user, next_url=pop_social_next())
