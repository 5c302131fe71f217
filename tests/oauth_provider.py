"""A real OAuth 2 / OpenID Connect provider on 127.0.0.1 for the social-login tests.

Built with authlib's server side (the Flask AuthorizationServer, the authorization-code
grant with the OpenID Connect and PKCE extensions), it plays the third party the portal
talks to over HTTP: discovery document, JWKS, RS256 ID tokens carrying the nonce, and
user-info endpoints in three shapes: OpenID Connect, Kakao (`/v2/user/me`) and Naver
(`/v1/nid/me`). Its storage is a few dicts; the person "signed in" at the provider is
whatever the test puts in `provider.person`.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import AuthorizationCodeMixin, UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, jsonify, request
from joserfc.jwk import KeySet, RSAKey

from tests.conftest import LiveServer


@dataclass
class Person:
    """Somebody with an account at the provider."""

    sub: str
    email: str | None = None
    email_verified: bool = True
    name: str | None = None


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    # How the client must authenticate at the token endpoint (Kakao/Naver: form body).
    auth_method: str = "client_secret_basic"

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str | None) -> str:
        return scope or ""

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(self.client_secret, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint != "token" or method == self.auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    person: Person
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time


class _CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
    provider: TestProvider

    def save_authorization_code(self, code: str, request: Any) -> None:
        data = request.payload.data
        nonce = data.get("nonce")
        if nonce:
            self.provider.used_nonces.add(nonce)
        if self.provider.forge_nonce and nonce:
            nonce = "forged-" + nonce
        self.provider.codes[code] = Code(
            code=code,
            client_id=request.client.client_id,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            person=request.user,
            nonce=nonce,
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
        )

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        item = self.provider.codes.get(code)
        return item if item is not None and item.client_id == client.client_id else None

    def delete_authorization_code(self, authorization_code: Code) -> None:
        self.provider.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: Code) -> Person:
        return authorization_code.person


class _OpenIDCode(OpenIDCode):
    def __init__(self, provider: TestProvider) -> None:
        super().__init__(require_nonce=True)
        self.provider = provider

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        return nonce in self.provider.used_nonces

    def resolve_client_private_key(self, client: Client) -> RSAKey:
        return self.provider.key

    def get_client_algorithm(self, client: Client) -> str:
        return "RS256"

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": "RS256", "kid": self.provider.key.kid}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        return {"iss": self.provider.url, "aud": [client.client_id]}

    def generate_user_info(self, user: Person, scope: str) -> UserInfo:
        return self.provider.oidc_claims(user)


class TestProvider:
    """The provider app, served in a thread on a free loopback port."""

    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        self.clients: dict[str, Client] = {}
        self.codes: dict[str, Code] = {}
        self.tokens: dict[str, Person] = {}
        self.used_nonces: set[str] = set()
        self.person: Person | None = None
        # Misbehaviours a test can switch on.
        self.forge_nonce = False
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-provider-key"})
        self.app = self._build_app()
        self.server = LiveServer(self.app)
        self.url = self.server.url

    def start(self) -> TestProvider:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def register_client(self, client_id: str, client_secret: str, redirect_uri: str, auth_method: str) -> None:
        self.clients[client_id] = Client(client_id, client_secret, [redirect_uri], auth_method)

    def oidc_claims(self, person: Person) -> UserInfo:
        claims = UserInfo(sub=person.sub, email_verified=person.email_verified)
        if person.email:
            claims["email"] = person.email
        if person.name:
            claims["name"] = person.name
        return claims

    def _bearer_person(self) -> Person | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return self.tokens.get(token) if scheme.lower() == "bearer" else None

    def _build_app(self) -> Flask:
        app = Flask("test_oauth_provider")
        server = AuthorizationServer(app, query_client=self.clients.get, save_token=self._save_token)
        grant = type("CodeGrant", (_CodeGrant,), {"provider": self})
        server.register_grant(grant, [_OpenIDCode(self), CodeChallenge(required=False)])

        @app.get("/.well-known/openid-configuration")
        def discovery():  # type: ignore[no-untyped-def]
            return jsonify(
                issuer=self.url,
                authorization_endpoint=self.url + "/authorize",
                token_endpoint=self.url + "/token",
                userinfo_endpoint=self.url + "/userinfo",
                jwks_uri=self.url + "/jwks",
                response_types_supported=["code"],
                subject_types_supported=["public"],
                id_token_signing_alg_values_supported=["RS256"],
                code_challenge_methods_supported=["S256"],
                token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
            )

        @app.get("/jwks")
        def jwks():  # type: ignore[no-untyped-def]
            return jsonify(KeySet([self.key]).as_dict(private=False))

        @app.get("/authorize")
        def authorize():  # type: ignore[no-untyped-def]
            if self.person is None:
                return jsonify(error="login_required"), 401
            try:
                consent = server.get_consent_grant(end_user=self.person)
            except OAuth2Error as error:
                return jsonify(error=error.error, error_description=error.description), 400
            return server.create_authorization_response(grant=consent, grant_user=self.person)

        @app.post("/token")
        def token():  # type: ignore[no-untyped-def]
            return server.create_token_response()

        @app.get("/userinfo")
        def userinfo():  # type: ignore[no-untyped-def]
            person = self._bearer_person()
            if person is None:
                return jsonify(error="invalid_token"), 401
            return jsonify(self.oidc_claims(person))

        @app.get("/v2/user/me")
        def kakao_me():  # type: ignore[no-untyped-def]
            person = self._bearer_person()
            if person is None:
                return jsonify(msg="this access token does not exist", code=-401), 401
            account: dict[str, Any] = {"profile": {"nickname": person.name}}
            if person.email:
                account.update(email=person.email, is_email_verified=person.email_verified, is_email_valid=True)
            return jsonify(id=int(person.sub), connected_at="2026-01-01T00:00:00Z", kakao_account=account)

        @app.get("/v1/nid/me")
        def naver_me():  # type: ignore[no-untyped-def]
            person = self._bearer_person()
            if person is None:
                return jsonify(resultcode="024", message="Authentication failed"), 401
            return jsonify(
                resultcode="00",
                message="success",
                response={"id": person.sub, "email": person.email, "name": person.name, "nickname": person.name},
            )

        return app

    def _save_token(self, token: dict[str, Any], request: Any) -> None:
        self.tokens[token["access_token"]] = request.user
