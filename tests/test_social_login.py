"""Social login end to end, offline: the portal signs people in through a real OAuth 2 /
OpenID Connect provider running on 127.0.0.1 (tests/oauth_provider.py), over real HTTP.

The providers are switched on the way an operator does it, with environment variables
(Google and generic OIDC presets pointed at the test provider, Kakao and Naver presets
with their endpoints overridden).
"""

from __future__ import annotations

import os
import re
import socket
import uuid
from dataclasses import replace
from unittest import mock
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
from sqlalchemy import func, select

from models import Role, SocialIdentity, User
from portal import create_app
from settings import Settings
from tests.conftest import LiveServer
from tests.oauth_provider import Person, TestProvider
from tests.support import TEST_PASSWORD, unique_email


@pytest.fixture(scope="module")
def idp():
    provider = TestProvider().start()
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def portal(idp, settings):
    discovery = idp.url + "/.well-known/openid-configuration"
    env = {
        "OAUTH_GOOGLE_CLIENT_ID": "portal-google",
        "OAUTH_GOOGLE_CLIENT_SECRET": "google-secret",
        "OAUTH_GOOGLE_METADATA_URL": discovery,
        "OAUTH_OIDC_NAME": "sso",
        "OAUTH_OIDC_LABEL": "Company SSO",
        "OAUTH_OIDC_CLIENT_ID": "portal-sso",
        "OAUTH_OIDC_CLIENT_SECRET": "sso-secret",
        "OAUTH_OIDC_METADATA_URL": discovery,
    }
    for name, userinfo in (("KAKAO", "/v2/user/me"), ("NAVER", "/v1/nid/me")):
        env |= {
            f"OAUTH_{name}_CLIENT_ID": f"portal-{name.lower()}",
            f"OAUTH_{name}_CLIENT_SECRET": f"{name.lower()}-secret",
            f"OAUTH_{name}_AUTHORIZE_URL": idp.url + "/authorize",
            f"OAUTH_{name}_TOKEN_URL": idp.url + "/token",
            f"OAUTH_{name}_USERINFO_URL": idp.url + userinfo,
        }
    with mock.patch.dict(os.environ, env):
        providers = Settings.from_env().oauth_providers
    assert {p.name for p in providers} == {"google", "kakao", "naver", "sso"}
    # Redirect URIs come from PUBLIC_BASE_URL (never the Host header), so the port is chosen first.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(replace(settings, oauth_providers=providers, public_base_url=f"http://127.0.0.1:{port}"))
    server = LiveServer(app, port=port).start()
    for p in providers:
        method = "client_secret_basic" if p.is_oidc else "client_secret_post"
        idp.register_client(p.client_id, p.client_secret, f"{server.url}/auth/social/{p.name}/callback", method)
    yield server
    server.stop()


class Visitor:
    """One browser: a cookie jar that follows redirects between the portal and the provider."""

    def __init__(self, portal: LiveServer) -> None:
        self.url = portal.url
        self.http = requests.Session()

    def csrf(self, path: str = "/auth/signup") -> str:
        page = self.http.get(self.url + path)
        return re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)

    def start(self, provider: str, role: str | None = None, follow: bool = True, next: str = "") -> requests.Response:
        data = {"csrf_token": self.csrf(), "next": next}
        if role:
            data["role"] = role
        return self.http.post(f"{self.url}/auth/social/{provider}/start", data=data, allow_redirects=follow)

    def who(self) -> tuple[str, str] | None:
        """(display name, role) shown in the page header, or None when signed out."""
        page = self.http.get(self.url + "/")
        match = re.search(r'class="who"[^>]*data-role="(\w+)">([^<]*) · ', page.text)
        return (match.group(2), match.group(1)) if match else None

    def sign_in_with_password(self, email: str, password: str = TEST_PASSWORD, next: str = "") -> requests.Response:
        data = {"csrf_token": self.csrf("/auth/signin"), "email": email, "password": password, "next": next}
        return self.http.post(self.url + "/auth/signin", data=data)

    def post_form(self, path: str, **fields: str) -> requests.Response:
        return self.http.post(self.url + path, data={"csrf_token": self.csrf(path), **fields})

    def sign_out(self) -> None:
        self.post_form("/auth/signout")


def _person(**overrides) -> Person:
    number = str(uuid.uuid4().int % 10**12)
    values = {"sub": number, "email": unique_email("social"), "name": f"Person {number[:4]}"}
    values.update(overrides)
    return Person(**values)


def _identity(session_factory, provider: str, subject: str) -> SocialIdentity | None:
    with session_factory() as session:
        identity = session.scalar(
            select(SocialIdentity).where(SocialIdentity.provider == provider, SocialIdentity.subject == subject)
        )
        if identity is not None:
            session.expunge(identity)
        return identity


def _user(session_factory, user_id: int) -> User:
    with session_factory() as session:
        user = session.get(User, user_id)
        session.expunge(user)
        return user


def _count_users(session_factory, email: str) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(User).where(User.email == email))


def _tamper(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query.update(params)
    return urlunsplit(parts._replace(query=urlencode(query)))


@pytest.mark.parametrize("provider", ["sso", "google"])
def test_oidc_sign_up_as_seller_then_the_same_identity_signs_into_the_same_user(portal, idp, session_factory, provider):
    idp.person = person = _person()
    visitor = Visitor(portal)
    final = visitor.start(provider, role="seller", next="/auth/account")
    assert final.status_code == 200 and final.url == portal.url + "/auth/account"
    assert visitor.who() == (person.name, "seller")
    identity = _identity(session_factory, provider, person.sub)
    assert identity is not None
    user = _user(session_factory, identity.user_id)
    assert (user.role, user.email, user.password_hash) == (Role.SELLER, person.email, None)

    visitor.sign_out()
    assert visitor.who() is None
    again = Visitor(portal)  # a fresh browser, from the sign-in page, choosing no role
    assert again.start(provider).status_code == 200
    assert again.who() == (person.name, "seller")
    assert _identity(session_factory, provider, person.sub).user_id == user.id
    assert _count_users(session_factory, person.email) == 1


@pytest.mark.parametrize("provider", ["sso", "kakao"])
def test_a_tampered_state_is_refused(portal, idp, session_factory, provider):
    idp.person = person = _person()
    visitor = Visitor(portal)
    to_provider = visitor.start(provider, role="viewer", follow=False)
    assert to_provider.status_code == 302 and to_provider.headers["Location"].startswith(idp.url + "/authorize")
    state = parse_qs(urlsplit(to_provider.headers["Location"]).query)["state"][0]
    assert state.startswith("viewer.")
    # Promote yourself on the way: the provider sends the altered state back unchanged.
    forged = _tamper(to_provider.headers["Location"], state="seller." + state.partition(".")[2])
    back = visitor.http.get(forged, allow_redirects=False)
    assert back.status_code == 302 and "/callback?" in back.headers["Location"]
    refused = visitor.http.get(back.headers["Location"], allow_redirects=False)
    assert refused.status_code == 400
    assert "could not be verified" in refused.text
    assert visitor.who() is None
    assert _identity(session_factory, provider, person.sub) is None


def test_a_callback_this_browser_did_not_start_is_refused(portal, idp, session_factory):
    idp.person = person = _person()
    attacker = Visitor(portal)
    to_provider = attacker.start("sso", role="seller", follow=False)
    code_url = attacker.http.get(to_provider.headers["Location"], allow_redirects=False).headers["Location"]
    victim = Visitor(portal)  # login CSRF: the victim's browser is made to open the attacker's callback
    victim.csrf()
    refused = victim.http.get(code_url, allow_redirects=False)
    assert refused.status_code == 400
    assert victim.who() is None
    assert _identity(session_factory, "sso", person.sub) is None


def test_an_id_token_with_a_wrong_nonce_is_refused(portal, idp, session_factory):
    idp.person = person = _person()
    idp.forge_nonce = True
    try:
        visitor = Visitor(portal)
        response = visitor.start("sso", role="viewer")
    finally:
        idp.forge_nonce = False
    assert response.status_code == 400
    assert visitor.who() is None
    assert _identity(session_factory, "sso", person.sub) is None


@pytest.mark.parametrize("provider", ["kakao", "naver"])
def test_plain_oauth2_providers_sign_up_and_back_in(portal, idp, session_factory, provider):
    idp.person = person = _person(name="김철수")
    visitor = Visitor(portal)
    assert visitor.start(provider, role="viewer").status_code == 200
    assert visitor.who() == ("김철수", "viewer")
    identity = _identity(session_factory, provider, person.sub)
    assert identity is not None and identity.email == person.email
    user = _user(session_factory, identity.user_id)
    assert (user.role, user.email) == (Role.VIEWER, person.email)
    visitor.sign_out()
    assert visitor.start(provider).status_code == 200
    assert visitor.who() == ("김철수", "viewer")
    assert _count_users(session_factory, person.email) == 1


def test_an_unverified_email_is_not_put_on_the_new_account(portal, idp, session_factory):
    idp.person = person = _person(email_verified=False)
    visitor = Visitor(portal)
    assert visitor.start("kakao", role="seller").status_code == 200
    identity = _identity(session_factory, "kakao", person.sub)
    user = _user(session_factory, identity.user_id)
    assert user.email is None and identity.email == person.email
    assert user.role == Role.SELLER


def test_a_matching_email_is_linked_only_after_the_owner_signs_in_and_confirms(
    portal, idp, session_factory, make_user
):
    owner = make_user(Role.SELLER)
    idp.person = person = _person(email=owner.email)
    visitor = Visitor(portal)
    page = visitor.start("sso", role="viewer")
    # Nothing linked, nobody signed in: the visitor is asked to sign in to the existing account.
    assert urlsplit(page.url).path == "/auth/signin"
    assert "already exists" in page.text
    assert visitor.who() is None
    assert _identity(session_factory, "sso", person.sub) is None
    assert _count_users(session_factory, owner.email) == 1

    confirm = visitor.sign_in_with_password(owner.email, next=parse_qs(urlsplit(page.url).query)["next"][0])
    assert urlsplit(confirm.url).path == "/auth/link"
    assert "Link Company SSO" in confirm.text
    assert _identity(session_factory, "sso", person.sub) is None  # still only a question

    done = visitor.post_form("/auth/link", action="link")
    assert urlsplit(done.url).path == "/auth/account"
    assert _identity(session_factory, "sso", person.sub).user_id == owner.id

    visitor.sign_out()
    assert visitor.start("sso").status_code == 200
    assert visitor.who() == (owner.display_name, "seller")
    assert _count_users(session_factory, owner.email) == 1


def test_declining_or_signing_in_as_someone_else_links_nothing(portal, idp, session_factory, make_user):
    owner = make_user(Role.VIEWER)
    other = make_user(Role.VIEWER)
    idp.person = person = _person(email=owner.email)

    declining = Visitor(portal)
    declining.start("google")
    declining.sign_in_with_password(owner.email, next="/auth/link")
    # An answer other than the page's two buttons is the one 422 (read by its form model, issue 19),
    # not a silent "decline": the link still waits for the real answer.
    odd = declining.post_form("/auth/link", action="maybe")
    assert odd.status_code == 422 and 'data-status="422"' in odd.text and "action:" in odd.text
    declined = declining.post_form("/auth/link", action="decline")
    assert "was not linked" in declined.text
    assert _identity(session_factory, "google", person.sub) is None

    stranger = Visitor(portal)
    stranger.start("google")
    landed = stranger.sign_in_with_password(other.email, next="/auth/link")
    assert urlsplit(landed.url).path == "/auth/account"
    assert "meant for another account" in landed.text
    assert stranger.http.get(portal.url + "/auth/link").url == portal.url + "/auth/account"
    assert _identity(session_factory, "google", person.sub) is None


def test_a_signed_in_user_connects_another_provider_after_confirming(portal, idp, session_factory, make_user):
    user = make_user(Role.SELLER)
    visitor = Visitor(portal)
    visitor.sign_in_with_password(user.email)
    idp.person = person = _person(email=unique_email("other-address"))
    account = visitor.http.get(portal.url + "/auth/account")
    assert 'data-provider="naver"' in account.text
    question = visitor.start("naver")
    assert urlsplit(question.url).path == "/auth/link"
    assert _identity(session_factory, "naver", person.sub) is None
    visitor.post_form("/auth/link", action="link")
    assert _identity(session_factory, "naver", person.sub).user_id == user.id

    # The same Naver account cannot then be attached to a second PaySystem account.
    second = make_user(Role.VIEWER)
    intruder = Visitor(portal)
    intruder.sign_in_with_password(second.email)
    refused = intruder.start("naver")
    assert "already linked to another" in refused.text
    assert intruder.who() == (second.display_name, "viewer")
    assert _identity(session_factory, "naver", person.sub).user_id == user.id


def test_a_refusal_at_the_provider_and_an_unknown_provider(portal):
    visitor = Visitor(portal)
    refused = visitor.http.get(portal.url + "/auth/social/kakao/callback?error=access_denied&state=x")
    assert urlsplit(refused.url).path == "/auth/signin"
    assert "cancelled or refused" in refused.text
    assert visitor.who() is None
    data = {"csrf_token": visitor.csrf(), "role": "viewer"}
    assert visitor.http.post(portal.url + "/auth/social/github/start", data=data).status_code == 404
    # Admin cannot be chosen at sign-up, and the start needs the CSRF token.
    admin = visitor.http.post(portal.url + "/auth/social/sso/start", data={**data, "role": "admin"})
    assert admin.status_code == 422 and "role:" in admin.text  # the one refusal of a bad value (issue 19)
    no_csrf = visitor.http.post(portal.url + "/auth/social/sso/start", data={"role": "viewer"})
    assert no_csrf.status_code == 400


def test_sign_in_and_sign_up_pages_offer_the_enabled_providers(portal):
    visitor = Visitor(portal)
    for path in ("/auth/signin", "/auth/signup"):
        page = visitor.http.get(portal.url + path).text
        for name in ("google", "kakao", "naver", "sso"):
            assert f'data-provider="{name}"' in page
    assert "Company SSO" in page
    # Enter in a field submits with the form's first button: that must be the e-mail sign-up.
    assert page.index(">Create account<") < page.index('type="submit" class="button social')


def test_provider_answers_are_mapped_and_checked():
    from portal.auth.social_profiles import ProfileError, kakao_profile, naver_profile, oidc_profile

    kakao = kakao_profile("kakao", {"id": 42, "kakao_account": {"email": "K@Example.com", "is_email_verified": True,
                                                                 "is_email_valid": True}, "properties": {"nickname": "k"}})
    assert (kakao.subject, kakao.email, kakao.email_verified, kakao.name) == ("42", "k@example.com", True, "k")
    unverified = kakao_profile("kakao", {"id": 43, "kakao_account": {"email": "x@example.com", "is_email_verified": True,
                                                                      "is_email_valid": False}})
    assert unverified.email_verified is False and unverified.display_name == "x"
    assert kakao_profile("kakao", {"id": 44}).email is None
    naver = naver_profile("naver", {"resultcode": "00", "response": {"id": "abc", "email": "n@example.com"}})
    assert (naver.subject, naver.email, naver.email_verified) == ("abc", "n@example.com", True)
    oidc = oidc_profile("sso", {"sub": "s-1", "email": "o@example.com", "email_verified": "true", "preferred_username": "o1"})
    assert (oidc.email_verified, oidc.name) == (True, "o1")
    assert oidc_profile("sso", {"sub": "s-2", "email": "not an address"}).email is None
    for bad in (lambda: kakao_profile("kakao", {"kakao_account": {}}),
                lambda: naver_profile("naver", {"resultcode": "024", "message": "Authentication failed"}),
                lambda: oidc_profile("sso", {"sub": ""})):
        with pytest.raises(ProfileError):
            bad()


def test_provider_configuration_mistakes_are_refused_at_start(settings):
    from settings import ConfigError, OAuthProvider

    github = OAuthProvider(name="github", client_id="x", client_secret="y", authorize_url="https://a",
                           access_token_url="https://t", userinfo_url="https://u")
    google = OAuthProvider(name="google", client_id="x", client_secret="y", server_metadata_url="https://m")
    for providers, message in (((github,), "no profile reader"), ((google, google), "configured twice")):
        with pytest.raises(ConfigError, match=message):
            create_app(replace(settings, oauth_providers=providers))
