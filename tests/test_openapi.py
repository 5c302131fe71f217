"""The OpenAPI document of /api/v1 (issue 11): it validates, it lists exactly the routes Flask
serves under /api/v1 with their methods, authenticated operations declare 401, every refusal
it declares has the API's one error shape, and a request that fails its schema is answered in
that shape with the status the document declares."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from models import Role
from tests.watching_support import bearer

PREFIX = "/api/v1"
ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}
IGNORED_METHODS = {"HEAD", "OPTIONS"}
# Values for path parameters in requests built from the document.
SAMPLE_PARAMS = {"day": "2026-03-01"}


@pytest.fixture(scope="module")
def document(app):  # type: ignore[no-untyped-def]
    response = app.test_client().get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200 and response.is_json
    return response.get_json()


def _operations(document: dict) -> list[tuple[str, str, dict]]:
    return [(path, method.upper(), operation) for path, item in document["paths"].items()
            for method, operation in item.items()]


def _openapi_path(rule: str) -> str:
    """`/api/v1/videos/<int:video_id>` → `/api/v1/videos/{video_id}`."""
    return re.sub(r"<(?:[a-zA-Z_][a-zA-Z0-9_]*(?:\([^)]*\))?:)?([a-zA-Z_][a-zA-Z0-9_]*)>", r"{\1}", rule)


def _requires_token(document: dict, operation: dict) -> bool:
    return bool(operation.get("security", document.get("security", [])))


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PARAMS.get(m.group(1), "1"), path)


def test_the_document_is_valid_openapi(document):
    validate(document)
    assert document["openapi"].startswith("3.")


def test_the_document_lists_exactly_the_routes_under_api_v1_with_their_methods(app, document):
    served = {(_openapi_path(rule.rule), method)
              for rule in app.url_map.iter_rules() if rule.rule.startswith(PREFIX)
              for method in rule.methods - IGNORED_METHODS}
    documented = {(path, method) for path, method, _ in _operations(document)}
    assert served - documented == set(), "served but not in the document"
    assert documented - served == set(), "in the document but not served"


def test_every_authenticated_operation_declares_401_and_answers_it_without_a_token(client, document):
    authenticated = [(path, method, op) for path, method, op in _operations(document) if _requires_token(document, op)]
    assert len(authenticated) > 10
    for path, method, operation in authenticated:
        assert "401" in operation["responses"], f"{method} {path} does not declare 401"
        response = client.open(_url(path), method=method)
        assert response.status_code == 401, (method, path, response.status_code)
        assert set(response.get_json()) == {"error", "message"}


def test_every_declared_refusal_is_the_error_body(document):
    assert set(document["components"]["schemas"]["ErrorBody"]["required"]) == {"error", "message"}
    for path, method, operation in _operations(document):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                assert schema == ERROR_BODY, f"{method} {path} {status}: {schema}"


def test_every_operation_declares_the_answers_of_the_layers_in_front_of_it_and_gives_413(
        client, document, make_user, settings):
    """The body limit refuses an oversized declared body on every route (portal/body_limits.py), the
    request limits an over-long request line or header (portal/request_limits.py): each operation
    lists 413, 414 and 431 with the error body, and really answers 413."""
    # Declared, not sent: the limit refuses on the declared length, before anything reads the body
    # (over the upload limit, which the upload routes take).
    declared = str(settings.max_upload_mb * 1024 * 1024 + 1)
    token = bearer(make_user(Role.ADMIN), settings)
    operations = _operations(document)
    assert len(operations) > 30
    for path, method, operation in operations:
        for status in ("413", "414", "431"):
            answer = operation["responses"].get(status)
            assert answer is not None, f"{method} {path} does not declare {status}"
            assert answer["content"]["application/json"]["schema"] == ERROR_BODY
        response = client.open(_url(path), method=method, data=b"{}", content_type="application/json",
                               headers=token, environ_overrides={"CONTENT_LENGTH": declared})
        assert response.status_code == 413, (method, path, response.status_code)


def test_every_operation_that_reads_the_database_declares_503_and_the_others_work_without_it(document, settings):
    from dataclasses import replace

    from portal import create_app
    from portal.api.openapi import WITHOUT_DATABASE
    from tests.support import free_port

    for path, method, operation in _operations(document):
        if path in WITHOUT_DATABASE:
            continue
        answer = operation["responses"].get("503")
        assert answer is not None, f"{method} {path} does not declare 503"
        assert answer["content"]["application/json"]["schema"] == ERROR_BODY
    # The few that do not declare it really answer without the database.
    dead = create_app(replace(settings, database_url=f"mysql+pymysql://root@127.0.0.1:{free_port()}/gone")).test_client()
    for path in WITHOUT_DATABASE:
        assert dead.get(path).status_code == 200, path


def test_the_docs_page_and_its_assets_are_served(client, document):
    page = client.get(f"{PREFIX}/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert 'data-spec-url="/api/v1/openapi.json"' in html and "<script>" not in html
    for name, mimetype in (("swagger-ui-bundle", "text/javascript"), ("swagger-ui", "text/css")):
        suffix = "js" if mimetype.endswith("javascript") else "css"
        url = re.search(rf'"(/static/vendor/{name}\.[0-9a-f]{{12}}\.{suffix})"', html).group(1)
        asset = client.get(url)
        assert asset.status_code == 200 and asset.mimetype == mimetype and len(asset.data) > 10_000, name
    assert client.get("/static/vendor/index.html").status_code == 404  # only the allow-listed files
    docs = document["paths"][f"{PREFIX}/docs"]["get"]
    assert docs["security"] == [] and "text/html" in docs["responses"]["200"]["content"]


@pytest.mark.parametrize(("role", "method", "path", "body", "status", "needle"), [
    (Role.SELLER, "GET", "/stats/top5?metric=likes", None, 422, "metric"),
    (Role.SELLER, "GET", "/settlements?from=2026-03-01&to=2026-03-02&per_page=501", None, 422, "per_page"),
    (Role.SELLER, "GET", "/videos/1/stats?from=2026-13-01", None, 422, "from"),
    # Out of the API's range, where the week and month arithmetic used to overflow (a 500).
    (Role.SELLER, "GET", "/stats/top5?period=month&date=9999-12-31", None, 422, "date"),
    (Role.SELLER, "GET", f"/settlements?from=2026-03-01&to=2026-03-02&video_id={2**64}", None, 422, "video_id"),
    (Role.ADMIN, "GET", "/admin/status?month=9999-12", None, 422, "month"),
    (Role.ADMIN, "GET", "/admin/runs?page=zero", None, 422, "page"),
    (Role.ADMIN, "GET", "/admin/users?per_page=9999", None, 422, "per_page"),
    (Role.ADMIN, "PATCH", "/admin/users/1", {"role": ["admin"]}, 422, "role"),
    (Role.ADMIN, "POST", "/admin/plans", {"name": "Spring", "effective_from": "2090-01-01", "brackets": "all"},
     422, "brackets"),
    (Role.ADMIN, "POST", "/admin/runs", {"first": 20260301}, 422, "first"),
])
def test_a_request_that_fails_its_schema_gets_the_error_body_with_the_declared_status(
        client, document, make_user, settings, role, method, path, body, status, needle):
    response = client.open(PREFIX + path, method=method, json=body, headers=bearer(make_user(role), settings))
    assert response.status_code == status, response.get_data(as_text=True)
    answer = response.get_json()
    assert set(answer) == {"error", "message"} and answer["error"] == "invalid_request" and needle in answer["message"]
    template = re.sub(r"/\d+", "/{x}", path.split("?")[0])
    operation = next(op for p, m, op in _operations(document)
                     if m == method and re.sub(r"\{\w+\}", "{x}", p) == PREFIX + template)
    assert operation["responses"][str(status)]["content"]["application/json"]["schema"] == ERROR_BODY


def test_answers_are_checked_against_their_model_only_where_the_settings_ask(settings, monkeypatch):
    """Issue 11: response validation is a development/test guard (a 500 for an answer that
    breaks its documented shape); production skips it by default, requests are always checked."""
    from dataclasses import replace

    from flask import Flask, jsonify
    from pydantic import BaseModel

    from portal.api.openapi import ErrorBody, RequestInvalid, api_spec, responses
    from settings import Settings

    class Query(BaseModel):
        n: int

    for checked, status in ((True, 500), (False, 200)):
        app = Flask(__name__)
        app.config["PAYSYSTEM_SETTINGS"] = replace(settings, api_validate_responses=checked)

        @app.get("/shape")
        @api_spec.validate(query=Query, resp=responses(ErrorBody))
        def shape():  # type: ignore[no-untyped-def]
            return jsonify(not_the="documented shape")

        app.testing = True  # the refusal below propagates (the portal's handler makes it a 422)
        client = app.test_client()
        assert client.get("/shape?n=1").status_code == status
        with pytest.raises(RequestInvalid):
            client.get("/shape?n=x")  # the request is checked either way
    monkeypatch.setenv("PAYSYSTEM_ENV", "production")
    assert Settings.from_env().api_validate_responses is False
    monkeypatch.setenv("API_VALIDATE_RESPONSES", "1")
    assert Settings.from_env().api_validate_responses is True


def test_every_paged_answer_documents_the_same_paging_fields(document):
    """The paging fields come from one definition (portal/api/paging_schemas.py), with the page
    arithmetic of models/listing.py `page_count`: an empty list still has one page."""
    from models.listing import page_count
    from portal.api.paging_schemas import PageFields

    shared = {name: field.description for name, field in PageFields.model_fields.items()}
    paged = {name: schema["properties"] for name, schema in _schemas(document).items()
             if {"per_page", "pages"} <= set(schema.get("properties", {}))}  # answers, not queries
    assert {"AdminUserPage", "CatalogVideoList", "RunHistory", "SettlementPage", "ContentTable",
            "RestatementList"} <= {name.split(".")[-1] for name in paged}
    for name, properties in paged.items():
        assert {field: properties[field].get("description") for field in shared} == shared, name
    assert [page_count(total, 20) for total in (0, 1, 20, 21, 40, 41)] == [1, 1, 1, 2, 2, 3]


def _schemas(document: dict) -> dict:
    """Every named schema of the document, wherever spectree put it."""
    found = dict(document.get("components", {}).get("schemas", {}))
    for schema in list(found.values()):
        found.update(schema.get("$defs", {}))
    return found
